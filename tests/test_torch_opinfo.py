"""convlab against PyTorch's own test inputs (``torch.testing._internal``).

* OpInfo ``sample_inputs`` of ``nn.functional.conv{1,2,3}d`` and ``conv_transpose{1,2,3}d``
  in every CPU dtype PyTorch lists for them (float64/32/16, bfloat16, complex128/64, int64):
  same values as torch; for float64 and complex128 also the same gradients;
* OpInfo ``error_inputs``: the same exception type as torch;
* ModuleInfo ``module_inputs`` of the twelve conv modules, in the dtypes ModuleInfo lists
  (float64/32; complex128/64/32 for the transposed ones): same parameters after the same seed,
  same ``repr``, same outputs.

Nothing is skipped. ``python tests/test_torch_opinfo.py`` prints the counts.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("expecttest")
from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402
from torch.testing._internal.common_modules import module_db  # noqa: E402

from convlab import functional  # noqa: E402
from convlab import nn as cnn  # noqa: E402

OPS = {o.name.removeprefix("nn.functional."): o for o in op_db
       if o.name.startswith("nn.functional.conv")}
MODULES = {m.module_cls.__name__: m for m in module_db if "Conv" in m.module_cls.__name__}
DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.complex128,
          torch.complex64, torch.int64]
TOLERANCES = {
    torch.float16: dict(atol=1e-2, rtol=1e-2), torch.complex32: dict(atol=1e-2, rtol=1e-2),
    torch.bfloat16: dict(atol=1e-1, rtol=5e-2),
    torch.float32: dict(atol=1e-4, rtol=1e-4), torch.complex64: dict(atol=1e-4, rtol=1e-4),
}


def _exact(t):
    """complex32 has few CPU ops; complex64 holds its values exactly."""
    return t.to(torch.complex64) if t.dtype == torch.complex32 else t


def _compare(expected, got, dtype):
    expected, got = _exact(expected), _exact(got)
    if dtype in (torch.float16, torch.bfloat16, torch.complex32):  # at the values' scale
        scale = expected.abs().max().clamp(min=1).item() if expected.numel() else 1.0
        torch.testing.assert_close(got / scale, expected / scale, **TOLERANCES[dtype])
    else:
        torch.testing.assert_close(got, expected, **TOLERANCES.get(dtype, {}))


def check_samples(name: str, dtype) -> tuple[int, list]:
    """Run every OpInfo sample of ``name``; return (passed, failures)."""
    op, ours = OPS[name], getattr(functional, name)
    grads = dtype in (torch.float64, torch.complex128)
    passed, failures = 0, []
    for i, s in enumerate(op.sample_inputs("cpu", dtype, requires_grad=grads)):
        try:
            expected = op.op(s.input, *s.args, **s.kwargs)
            got = ours(s.input, *s.args, **s.kwargs)
            _compare(expected, got, dtype)
            if grads:
                leaves = [t for t in (s.input, *s.args) if isinstance(t, torch.Tensor)]
                g_out = torch.randn_like(expected)
                g_exp = torch.autograd.grad(expected, leaves, g_out, allow_unused=True)
                g_got = torch.autograd.grad(got, leaves, g_out, allow_unused=True)
                for a, b in zip(g_got, g_exp):
                    if b is not None:
                        torch.testing.assert_close(a, b)
            passed += 1
        except Exception as e:  # noqa: BLE001 - collected and reported below
            failures.append(f"{name} {dtype} sample {i} {s.kwargs}: {type(e).__name__}: {e}")
    return passed, failures


def check_errors(name: str) -> tuple[int, list]:
    """Every OpInfo error input must raise the same exception type in convlab."""
    op, ours = OPS[name], getattr(functional, name)
    passed, failures = 0, []
    for i, e in enumerate(op.error_inputs("cpu") if op.error_inputs_func else []):
        s = e.sample_input
        try:
            ours(s.input, *s.args, **s.kwargs)
            failures.append(f"{name} error input {i}: no error (torch: {e.error_type.__name__})")
        except e.error_type:
            passed += 1
        except Exception as err:  # noqa: BLE001
            failures.append(f"{name} error input {i}: {type(err).__name__} instead of "
                            f"{e.error_type.__name__}: {err}")
    return passed, failures


def check_modules(name: str, dtype) -> tuple[int, list]:
    """Every ModuleInfo input: same init under one seed, same repr, same forward output."""
    info = MODULES[name]
    passed, failures = 0, []
    inputs = info.module_inputs_func(info, device="cpu", dtype=dtype, requires_grad=False,
                                     training=True)
    for i, m in enumerate(inputs):
        try:
            c = m.constructor_input
            outputs, modules = [], []
            for cls in (info.module_cls, getattr(cnn, name)):
                torch.manual_seed(0)
                module = cls(*c.args, **c.kwargs).to(dtype)
                torch.manual_seed(1)  # lazy modules draw their parameters here
                outputs.append(module(*m.forward_input.args, **m.forward_input.kwargs))
                modules.append(module)
            assert repr(modules[1]) == repr(modules[0])
            for a, b in zip(modules[1].parameters(), modules[0].parameters()):
                assert torch.equal(_exact(a), _exact(b))
            _compare(outputs[0], outputs[1], dtype)
            passed += 1
        except Exception as e:  # noqa: BLE001
            failures.append(f"{name} {dtype} module input {i}: {type(e).__name__}: {e}")
    return passed, failures


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", sorted(OPS))
def test_opinfo_sample_inputs(name, dtype):
    passed, failures = check_samples(name, dtype)
    assert not failures, "\n".join(failures)
    assert passed > 0


@pytest.mark.parametrize("name", sorted(OPS))
def test_opinfo_error_inputs(name):
    _, failures = check_errors(name)
    assert not failures, "\n".join(failures)


def module_dtypes(name):
    """The dtypes ModuleInfo lists for a module (complex32 too, for the transposed ones)."""
    return [d for d in (*DTYPES, torch.complex32) if d in MODULES[name].dtypes]


@pytest.mark.parametrize("name,dtype", [(n, d) for n in sorted(MODULES) for d in
                                        module_dtypes(n)], ids=str)
def test_moduleinfo_module_inputs(name, dtype):
    passed, failures = check_modules(name, dtype)
    assert not failures, "\n".join(failures)
    assert passed > 0


def count_all() -> dict:
    """Totals over everything PyTorch provides (what the chapter's closing note quotes)."""
    totals = dict(samples=[0, 0], errors=[0, 0], modules=[0, 0])
    for name in sorted(OPS):
        for dtype in DTYPES:
            p, f = check_samples(name, dtype)
            totals["samples"][0] += p
            totals["samples"][1] += len(f)
        p, f = check_errors(name)
        totals["errors"][0] += p
        totals["errors"][1] += len(f)
    for name in sorted(MODULES):
        for dtype in module_dtypes(name):
            p, f = check_modules(name, dtype)
            totals["modules"][0] += p
            totals["modules"][1] += len(f)
    return {k: dict(passed=v[0], failed=v[1]) for k, v in totals.items()}


if __name__ == "__main__":
    print(count_all())
