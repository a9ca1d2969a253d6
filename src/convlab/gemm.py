r"""Where the GEMMs of ``convlab.functional``'s fast paths run: oneDNN's or torch.matmul's.

``torch.matmul`` on a CPU calls the BLAS library PyTorch was built with; the x86 wheels
ship Intel's MKL, which chooses its kernels by checking for an Intel CPU (chapter 4
measures what that means on an AMD one). ``F.conv2d`` runs on oneDNN, which compiles its
kernels at run time for the ISA it finds (AVX-512 included) whatever the vendor. PyTorch
reaches oneDNN's matrix multiply through one operator, ``torch.ops.mkldnn._linear_pointwise``
(the fused linear layer of ``torch.compile``'s CPU backend):

.. math::

    Y = X W^\top + b, \qquad X: (M, K),\ W: (N, K),\ b: (N,),\ Y: (M, N).

It is private: it may be missing (older or CPU-less builds), it has no derivative, no
``out=`` variant and no ``torch.func`` rules. So :func:`onednn_applies` lets the fast
paths use it only for float32 CPU tensors outside autograd, ``torch.func``, forward AD,
``torch.compile`` and ``jit.trace`` (:func:`can_write_out`), after a probe call gave the
right answer; everything else (other dtypes, CUDA, gradients) keeps ``torch.matmul``.
Neither is a convolution kernel.
"""

from __future__ import annotations

import functools

import torch
from torch.autograd import forward_ad

try:  # torch.func wraps tensors; ops on them have no out= variants
    from torch._C._functorch import is_functorch_wrapped_tensor
except ImportError:  # pragma: no cover - very old torch
    def is_functorch_wrapped_tensor(t):
        return False

# "auto": oneDNN where :func:`onednn_applies`; "torch": torch.matmul always (benchmarks)
GEMM = "auto"


def can_write_out(*tensors) -> bool:
    """May ops on these tensors write into preallocated ``out=`` buffers (or run ops with
    no derivative)?

    Not when autograd records them, nor under a ``torch.func`` transform (``vmap``,
    ``jvp``, ``grad``, ``functional_call`` ensembles: ``out=`` variants have no batching or
    forward-AD rules), forward-mode AD (``torch.autograd.forward_ad``), ``torch.compile``
    or ``torch.jit.trace``. Then the fast paths use the same ops without ``out=``.
    """
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        return False
    grad_mode = torch.is_grad_enabled()
    for t in tensors:  # (plain loops: this runs on every call of the fast paths)
        if t is None:
            continue
        if ((grad_mode and t.requires_grad) or is_functorch_wrapped_tensor(t)
                or forward_ad.unpack_dual(t).tangent is not None):
            return False
    return True


@functools.cache
def onednn_matmul_available() -> bool:
    """Does this build have oneDNN's matmul operator, and does it multiply correctly?"""
    try:
        if not torch.backends.mkldnn.is_available():
            return False
        op = torch.ops.mkldnn._linear_pointwise
        a = torch.arange(6.0).view(2, 3)
        w, b = torch.arange(12.0).view(4, 3), torch.arange(4.0)
        return torch.equal(op(a, w, b, "none", [], ""), a @ w.T + b)
    except (AttributeError, RuntimeError, TypeError):  # absent, or its signature changed
        return False


def onednn_applies(*tensors) -> bool:
    """Will :func:`linear` run these tensors on oneDNN? float32, CPU, dense, no
    autograd or transform (:func:`can_write_out`), and oneDNN present and enabled."""
    if GEMM != "auto":
        return False
    for t in tensors:  # the cheap per-tensor tests first
        if t is not None and not (t.dtype == torch.float32 and t.is_cpu
                                  and t.layout == torch.strided):
            return False
    return (can_write_out(*tensors)  # before the global tests: it answers under compile
            and torch._C._get_mkldnn_enabled() and onednn_matmul_available())


def linear(x, w, b=None, checked=False):
    r"""``x @ w.T + b`` on oneDNN where :func:`onednn_applies`, else ``torch.addmm``.

    ``checked=True``: the caller has found :func:`onednn_applies` true for the tensors
    ``x``, ``w`` and ``b`` are made from (a chunk of an input's columns is), so the test
    is not repeated.

    Shape:
        - x: :math:`(M, K)`, w: :math:`(N, K)` (any strides: a transposed view is read as
          such, not copied), b: :math:`(N,)` or ``None``
        - output: :math:`(M, N)`, a new contiguous tensor
    """
    if checked or onednn_applies(x, w, b):
        return torch.ops.mkldnn._linear_pointwise(_dense(x), _dense(w), b, "none", [], "")
    return torch.mm(x, w.T) if b is None else torch.addmm(b, x, w.T)


def _dense(t):
    """``t`` as a matrix oneDNN can describe: rows or columns one step apart (a transposed
    or row-sliced view is fine), else a contiguous copy (e.g. the view ``reshape`` returns
    for every s-th column of an image, strides (3, 2))."""
    (rows, cols), (along_rows, along_cols) = t.shape, t.stride()
    row_major = along_cols == 1 and along_rows >= cols
    column_major = along_rows == 1 and along_cols >= rows
    return t if row_major or column_major else t.contiguous()


def describe() -> dict:
    """The GEMM libraries of this build, as PyTorch reports them."""
    config = torch.__config__.show()
    lines = {key: next((line.strip(" -") for line in config.splitlines() if key in line), None)
             for key in ("Math Kernel Library", "MKL-DNN", "OpenBLAS", "BLAS_INFO")}
    return {"blas": lines["Math Kernel Library"] or lines["OpenBLAS"],
            "onednn": lines["MKL-DNN"], "onednn_matmul": onednn_matmul_available(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
