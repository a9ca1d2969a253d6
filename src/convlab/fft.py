r"""FFT convolution: the convolution theorem turns the sliding sum into a product.

A circular cross-correlation in space is a product in frequency,
:math:`x \star w = \mathcal{F}^{-1}\big(\mathcal{F}(x) \cdot \overline{\mathcal{F}(\bar w)}\big)`
(:math:`\bar w = w` for real kernels; Mathieu et al., 2013). Only the "valid" outputs
are needed, and those never wrap around: output row :math:`i` reads input rows
:math:`i, \dots, i + k_\text{eff} - 1 \le H_\text{pad} - 1`. The cost is
:math:`O(H W \log(H W))` per channel pair, independent of the kernel size, so FFT pays
for large kernels.
"""

import torch

from ._checks import edge_cases_like_torch, pad_input, parse_conv_args
from .arithmetic import conv_output_size


@edge_cases_like_torch(no_integers="its floating-point transforms round")
def conv2d_fft(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D cross-correlation through ``torch.fft``: transform, multiply, transform back.

    .. math::

        \hat y[n, o] = \sum_c \hat x[n, c] \cdot \overline{\hat w[o, c]}, \qquad
        y[n, o] = \mathcal{F}^{-1}(\hat y[n, o])[::s_H, ::s_W] + b[o],

    where hats are 2-D FFTs of size :math:`(H_\text{pad}, W_\text{pad})` (real FFTs for
    real tensors); the kernel is dilated by spreading it with zeros, the stride is
    applied by subsampling the valid outputs.

    Shape:
        - input: :math:`(N, C_\text{in}, H_\text{in}, W_\text{in})` or
          :math:`(C_\text{in}, H_\text{in}, W_\text{in})`
        - weight: :math:`(C_\text{out}, C_\text{in}/G, k_H, k_W)`
        - output: :math:`(N, C_\text{out}, H_\text{out}, W_\text{out})` or
          :math:`(C_\text{out}, H_\text{out}, W_\text{out})`
    """
    args = parse_conv_args(input, weight, bias, stride, padding, dilation, groups)
    x, G, (d_h, d_w) = pad_input(args.input, args.padding), args.groups, args.dilation
    N, C_in, H_pad, W_pad = x.shape
    C_out, C_in_g, kH, kW = weight.shape
    w = weight.new_zeros(C_out, C_in_g, d_h * (kH - 1) + 1, d_w * (kW - 1) + 1)
    w[:, :, ::d_h, ::d_w] = weight  # (C_out, C_in/G, kH_eff, kW_eff): dilation = spread out
    if N == 0:  # MKL's FFT rejects empty tensors; an empty batch has nothing to transform
        y = x.new_zeros(0, C_out, H_pad, W_pad)
    else:
        y = _correlate_fft(x, w, G)  # (N, C_out, H_pad, W_pad), circular
    H_out = conv_output_size(H_pad, kH, args.stride[0], 0, d_h)
    W_out = conv_output_size(W_pad, kW, args.stride[1], 0, d_w)
    out = y[:, :, : (H_out - 1) * args.stride[0] + 1 : args.stride[0],
            : (W_out - 1) * args.stride[1] + 1 : args.stride[1]]  # (N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.view(1, C_out, 1, 1)
    return out.squeeze(0) if args.unbatched else out


def _correlate_fft(x, w, groups):
    """Circular cross-correlation of ``(N, C_in, H, W)`` with ``(C_out, C_in/G, kh, kw)``.

    Returns ``(N, C_out, H, W)``; entries that did not wrap around are the top-left
    ``(H - kh + 1, W - kw + 1)``. Real tensors use real FFTs; float16 and bfloat16, which
    have no CPU FFT, are transformed in float32 and rounded back once.
    """
    if x.dtype in (torch.float16, torch.bfloat16):
        return _correlate_fft(x.float(), w.float(), groups).to(x.dtype)
    N, C_in, H, W = x.shape
    C_out, C_in_g = w.shape[:2]
    fft, ifft = ((torch.fft.fft2, torch.fft.ifft2) if x.is_complex()
                 else (torch.fft.rfft2, torch.fft.irfft2))
    x_hat = fft(x, s=(H, W))  # (N, C_in, H, F_w), F_w = W//2 + 1 for real FFTs, else W
    w_hat = fft(w.conj(), s=(H, W))  # (C_out, C_in/G, H, F_w): the zero-padded kernel
    x_hat = x_hat.unflatten(1, (groups, C_in_g))  # (N, G, C_in/G, H, F_w)
    w_hat = w_hat.unflatten(0, (groups, C_out // groups)).conj()  # (G, C_out/G, C_in/G, H, F_w)
    y_hat = torch.einsum("ngchf,gochf->ngohf", x_hat, w_hat)  # sum over c: (N, G, C_out/G, H, F_w)
    return ifft(y_hat.flatten(1, 2), s=(H, W))  # (N, C_out, H, W)
