"""Chapter 7's reading of ``torch/nn/modules/conv.py``: which method faces which, and why
they differ.

Each :class:`Pair` names a torch object and a convlab object by import path
(``"module:Class.method"``), resolved when the chapter runs, so the diff is whatever the
installed torch and ``convlab.nn`` hold. Each :class:`~convlab.sourcediff.Note` explains
one difference and names it by a regular expression that must match a differing row;
``tests/test_sourcediff.py`` fails when a note matches nothing any more or a difference
has no note (for example after a torch upgrade or a change to ``convlab.nn``).
"""

from __future__ import annotations

import dataclasses

from .sourcediff import Note, PairDiff, pair_diff, resolve

TORCH = "torch.nn.modules.conv"
OURS = "convlab.nn"


@dataclasses.dataclass(frozen=True)
class Pair:
    theirs: str  # "module:qualified.name"
    ours: str
    notes: tuple[Note, ...]


ANNOTATIONS = Note(r"\w: (int|Tensor|bool|_size_\dt|list\[int\])\b",
                   "torch annotates every argument (TorchScript compiles modules from the "
                   "annotations); convlab leaves them out.")
SHAPE = Note(r"^\s*shape = \(\(",
             "One weight shape, its first two entries swapped for a transposed convolution, "
             "instead of two branches.")

PAIRS: dict[str, Pair] = {
    "_ConvNd.__init__": Pair(f"{TORCH}:_ConvNd.__init__", f"{OURS}:_ConvNd.__init__", (
        ANNOTATIONS,
        Note(r"factory_kwargs = ",
             "torch bundles device and dtype into factory_kwargs; convlab passes them by "
             "name."),
        Note(r"# a set, so",
             "Only a comment differs: the error message prints this set, so it has to be "
             "a set, as in torch."),
        Note(r"self\.in_channels, self\.out_channels = ",
             "The same attributes, stored two or three to a line."),
        Note(r"_padding_for_f_pad\(",
             "torch builds the F.pad list in place here ('same' puts the odd pad after); "
             "convlab calls one helper, shown in the padding section."),
        SHAPE,
    )),
    "Conv2d.__init__": Pair(f"{TORCH}:Conv2d.__init__", f"{OURS}:Conv2d.__init__", (
        ANNOTATIONS,
        Note(r"_conv_args\(2, ",
             "torch expands each argument with _pair in each of the three classes; convlab's "
             "_conv_args(dims, ...) does it for every rank."),
    )),
    "_ConvNd.reset_parameters": Pair(f"{TORCH}:_ConvNd.reset_parameters",
                                     f"{OURS}:_ConvNd.reset_parameters", (
        Note(r"kaiming_uniform_\(a=sqrt\(5\)\)",
             "convlab's docstring states the bound that a = √5 gives (derived below)."),
        Note(r"target = ",
             "Both draw in contiguous order, so a channels-last weight gets the same numbers; "
             "convlab writes one path through a `target` instead of two branches."),
    )),
    "padding list for F.pad": Pair("torch.nn.modules.utils:_reverse_repeat_tuple",
                                   f"{OURS}:_padding_for_f_pad", (
        Note(r"def _padding_for_f_pad",
             "torch's helper only reverses and repeats; convlab's also computes 'same' and "
             "'valid', which torch does inside _ConvNd.__init__."),
    )),
    "_conv_forward": Pair(f"{TORCH}:Conv2d._conv_forward", f"{OURS}:_ConvNd._conv_forward", (
        ANNOTATIONS,
        Note(r"getattr\(functional, ",
             "torch writes _conv_forward once per class with F.conv2d spelled out; convlab's "
             "one N-d method picks convlab.functional.conv{N}d by self._dims."),
        Note(r"padded = F\.pad\(",
             "The same F.pad call, on a line of its own."),
    )),
    "_ConvNd.extra_repr": Pair(f"{TORCH}:_ConvNd.extra_repr", f"{OURS}:_ConvNd.extra_repr", (
        Note(r"parts\.append\(",
             "torch fills a str.format template from self.__dict__; convlab joins a list of "
             "f-strings. The text is the same (checked below)."),
    )),
    "_ConvTransposeNd._output_padding": Pair(f"{TORCH}:_ConvTransposeNd._output_padding",
                                             f"{OURS}:_ConvTransposeNd._output_padding", (
        ANNOTATIONS,
        Note(r"return list\(_to_tuple\(self\.output_padding",
             "Without output_size both return the stored output_padding; convlab returns "
             "early instead of nesting the rest under else."),
        Note(r"torch\.jit\.annotate",
             "torch declares typed empty lists for TorchScript and loops by index; convlab "
             "builds the same lists with comprehensions."),
        Note(r"^\s*dilation = dilation if dilation is not None",
             "A missing dilation counts as 1: torch checks inside the sum, convlab once up "
             "front."),
    )),
    "_LazyConvXdMixin.initialize_parameters": Pair(
        f"{TORCH}:_LazyConvXdMixin.initialize_parameters",
        f"{OURS}:_LazyConvXdMixin.initialize_parameters", (
            ANNOTATIONS,
            Note(r"if not self\.has_uninitialized_params\(\)",
                 "An early return instead of nesting the body under the if."),
            Note(r"must be an UninitializedParameter",
                 "torch asserts that each parameter is still uninitialized; convlab relies "
                 "on the has_uninitialized_params() check above."),
            SHAPE,
        )),
}


def conv_py_diff(name: str) -> PairDiff:
    """The live diff of ``PAIRS[name]``: the installed torch's source against convlab's."""
    pair = PAIRS[name]
    return pair_diff(resolve(pair.theirs), resolve(pair.ours), notes=pair.notes, name=name)


def problems() -> list[str]:
    """Stale notes and unexplained differences, over every pair."""
    return [problem for name in PAIRS for problem in conv_py_diff(name).problems()]
