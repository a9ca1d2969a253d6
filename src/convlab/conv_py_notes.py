"""Chapter 7's reading of ``torch/nn/modules/conv.py``: which method faces which, and why
they differ.

Each :class:`Pair` names a torch object and a convlab object by import path
(``"module:Class.method"``), resolved when the chapter runs, so the diff is whatever the
installed torch and ``convlab.nn`` hold. Each :class:`~convlab.sourcediff.Note` explains
one difference and names it by a regular expression that must match a differing row;
``tests/test_sourcediff.py`` fails when a note matches nothing any more, a difference
has no note, or the diff is no longer the one the notes were reviewed for (its
fingerprint changed: after a torch upgrade or a change to ``convlab.nn``). Run
``python -m convlab.conv_py_notes`` to see what to review and the new fingerprints.
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
    reviewed: str = ""  # the PairDiff.fingerprint() that the notes were checked against


ANNOTATIONS = Note(r"\w: (int|Tensor|bool|_size_\dt|list\[int\])\b",
                   "torch annotates every argument, for TorchScript; convlab leaves the types out.")
SHAPE = Note(r"^\s*shape = \(\(",
             "One weight shape, its first two sizes swapped when "
             "transposed, instead of two branches.")

PAIRS: dict[str, Pair] = {
    "_ConvNd.__init__": Pair(f"{TORCH}:_ConvNd.__init__", f"{OURS}:_ConvNd.__init__", (
        ANNOTATIONS,
        Note(r"factory_kwargs = ",
             "torch bundles device and dtype into factory_kwargs; convlab passes them by name."),
        Note(r"^\s*Module\.__init__\(self\)",
             "By name: in convlab's MRO, super() would lead into torch's Conv2d.__init__."),
        Note(r"# a set, so",
             "Only a comment: the error message prints this set, "
             "so it must be a set, as in torch."),
        Note(r"self\.in_channels, self\.out_channels = ",
             "The same attributes, stored two or three to a line."),
        Note(r"_padding_for_f_pad\(",
             "torch builds the F.pad list here; convlab calls a helper (see Padding modes below)."),
        SHAPE,
    ), reviewed="7f1fa86909c8"),
    "Conv2d.__init__": Pair(f"{TORCH}:Conv2d.__init__", f"{OURS}:Conv2d", (
        Note(r"^class Conv2d\(_ConvNd, torch\.nn\.Conv2d\):",
             "Also a torch.nn.Conv2d, for isinstance; _ConvNd's methods come first in the MRO."),
        Note(r"^\s*_dims = 2",
             "convlab's whole Conv2d: a docstring, _dims (read by _conv_forward) and __init__."),
        ANNOTATIONS,
        Note(r"_conv_args\(2, ",
             "torch expands each argument with _pair in every "
             "class; convlab's _conv_args does it once."),
    ), reviewed="8e869fd637dd"),
    "_ConvNd.reset_parameters": Pair(f"{TORCH}:_ConvNd.reset_parameters",
                                     f"{OURS}:_ConvNd.reset_parameters", (
        Note(r"kaiming_uniform_\(a=sqrt\(5\)\)",
             "convlab's docstring states the bound that a = √5 gives (derived below)."),
        Note(r"target = ",
             "Both draw in contiguous order (same numbers for "
             "channels-last); convlab in one path."),
    ), reviewed="4fdca8cc06ef"),
    "padding list for F.pad": Pair("torch.nn.modules.utils:_reverse_repeat_tuple",
                                   f"{OURS}:_padding_for_f_pad", (
        Note(r"def _padding_for_f_pad",
             "convlab's helper also does 'same' and 'valid', "
             "which torch does in _ConvNd.__init__."),
    ), reviewed="5ececfaf4552"),
    "_conv_forward": Pair(f"{TORCH}:Conv2d._conv_forward", f"{OURS}:_ConvNd._conv_forward", (
        ANNOTATIONS,
        Note(r"getattr\(functional, ",
             "torch has one per class, F.conv2d spelled out; "
             "convlab one, picking conv{N}d by _dims."),
        Note(r"padded = F\.pad\(",
             "The same F.pad call, on a line of its own."),
    ), reviewed="1d4015bc0080"),
    "_ConvNd.extra_repr": Pair(f"{TORCH}:_ConvNd.extra_repr", f"{OURS}:_ConvNd.extra_repr", (
        Note(r"parts\.append\(",
             "torch fills a template from self.__dict__; convlab joins f-strings: the same text."),
    ), reviewed="cefe27d58f51"),
    "_ConvTransposeNd._output_padding": Pair(f"{TORCH}:_ConvTransposeNd._output_padding",
                                             f"{OURS}:_ConvTransposeNd._output_padding", (
        ANNOTATIONS,
        Note(r"return list\(_to_tuple\(self\.output_padding",
             "Without output_size, the stored output_padding: convlab returns early, torch nests."),
        Note(r"torch\.jit\.annotate",
             "torch fills typed lists (for TorchScript) by index; convlab uses comprehensions."),
        Note(r"^\s*dilation = dilation if dilation is not None",
             "A missing dilation counts as 1: torch checks inside the sum, convlab once up front."),
    ), reviewed="8c0d4787bef3"),
    "_LazyConvXdMixin.initialize_parameters": Pair(
        f"{TORCH}:_LazyConvXdMixin.initialize_parameters",
        f"{OURS}:_LazyConvXdMixin.initialize_parameters", (
            ANNOTATIONS,
            Note(r"if not self\.has_uninitialized_params\(\)",
                 "An early return instead of nesting the body under the if."),
            Note(r"must be an UninitializedParameter",
                 "torch asserts each parameter is uninitialized; convlab trusts the check above."),
            SHAPE,
        ), reviewed="d96b6360e9e3"),
}


def conv_py_diff(name: str) -> PairDiff:
    """The live diff of ``PAIRS[name]``: the installed torch's source against convlab's."""
    pair = PAIRS[name]
    return pair_diff(resolve(pair.theirs), resolve(pair.ours), notes=pair.notes, name=name)


def problems() -> list[str]:
    """Stale notes, unexplained differences and unreviewed diffs, over every pair."""
    found = []
    for name, pair in PAIRS.items():
        diff = conv_py_diff(name)
        found += diff.problems()
        if diff.fingerprint() != pair.reviewed:
            found.append(f"{name}: the diff changed (fingerprint {diff.fingerprint()}, notes "
                         f"reviewed for {pair.reviewed!r}): re-read its notes, then record "
                         f"reviewed={diff.fingerprint()!r}")
    return found


if __name__ == "__main__":  # python -m convlab.conv_py_notes: what to review, and the hashes
    for line in problems() or ["every pair's notes match its diff"]:
        print(line)
