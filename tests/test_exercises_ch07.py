"""Chapter 7 exercises: the solutions pass, plausible wrong answers fail and name the case."""

import math

from convlab.exercises import EXERCISES

IDS = ["reversed_padding_repeated_twice", "conv_init_bound", "conv_extra_repr"]


def test_solutions_pass():
    for id_ in IDS:
        assert EXERCISES[id_].chapter == 7
        assert EXERCISES[id_].check(EXERCISES[id_].solution, verbose=False), id_


def test_padding_in_forward_order_fails():
    def wrong(padding, kernel_size, dilation):  # forgets to reverse the dims
        if isinstance(padding, str):
            return [0, 0] * len(kernel_size)
        return [p for p in padding for _ in range(2)]
    result = EXERCISES["reversed_padding_repeated_twice"].check(wrong, verbose=False)
    assert not result and "different per dim" in result.message


def test_same_with_extra_pad_before_fails():
    def wrong(padding, kernel_size, dilation):
        if padding == "same":
            return [x for k, d in zip(reversed(kernel_size), reversed(dilation))
                    for x in (d * (k - 1) - d * (k - 1) // 2, d * (k - 1) // 2)]
        return EXERCISES["reversed_padding_repeated_twice"].solution(padding, kernel_size,
                                                                     dilation)
    result = EXERCISES["reversed_padding_repeated_twice"].check(wrong, verbose=False)
    assert not result and "even kernel" in result.case


def test_kaiming_without_a_fails():
    def wrong(weight_shape):  # a=0: the He bound sqrt(6 / fan_in)
        return math.sqrt(6 / (weight_shape[1] * math.prod(weight_shape[2:])))
    result = EXERCISES["conv_init_bound"].check(wrong, verbose=False)
    assert not result and result.case == "Conv2d(3, 64, 7)"


def test_transposed_fan_in_from_dim0_fails():
    def wrong(weight_shape):
        fan_in = weight_shape[0 if weight_shape[0] == 16 and len(weight_shape) == 4
                              and weight_shape[1] == 8 else 1] * math.prod(weight_shape[2:])
        return 1 / math.sqrt(fan_in) if fan_in else 0.0
    result = EXERCISES["conv_init_bound"].check(wrong, verbose=False)
    assert not result and "ConvTranspose2d" in result.case


def test_repr_printing_everything_fails():
    def wrong(in_channels, out_channels, kernel_size, stride, padding=(0, 0), dilation=(1, 1),
              output_padding=(0, 0), groups=1, bias=True, padding_mode="zeros"):
        return (f"{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}, "
                f"padding={padding}")
    result = EXERCISES["conv_extra_repr"].check(wrong, verbose=False)
    assert not result and result.case == "defaults"
