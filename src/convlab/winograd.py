r"""Winograd's minimal filtering F(2x2, 3x3): 16 multiplications instead of 36 per tile.

Lavin & Gray (2016) brought Winograd's (1980) minimal filtering algorithms to CNNs.
A 2x2 output tile :math:`Y` of a 3x3 correlation reads a 4x4 input tile :math:`\tilde x`;
with the kernel :math:`w` transformed once,

.. math::

    Y = A^T \big[ (G w G^T) \odot (B^T \tilde x B) \big] A,

the inner :math:`\odot` costs 16 multiplications instead of 2*2*9 = 36. Summed over input
channels, the :math:`\odot` becomes 16 independent matrix multiplies (one per position
:math:`\xi` of the 4x4 transformed tile), and each transform is a small GEMM too:
:math:`\operatorname{vec}(B^T \tilde x B) = (B^T \otimes B^T) \operatorname{vec}(\tilde x)`.
"""

import torch
import torch.nn.functional as F

from ._checks import edge_cases_like_torch, parse_conv_args


def winograd_matrices(dtype=torch.float64, device=None):
    """The F(2x2, 3x3) transforms ``(B^T, G, A^T)`` of shapes (4, 4), (4, 3), (2, 4)."""
    B_T = torch.tensor([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
                       dtype=dtype, device=device)
    G = torch.tensor([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
                     dtype=dtype, device=device)
    A_T = torch.tensor([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=dtype, device=device)
    return B_T, G, A_T


@edge_cases_like_torch(no_integers="G holds halves")
def conv2d_winograd(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""3x3, stride-1, dilation-1 cross-correlation by Winograd's F(2x2, 3x3).

    .. math::

        U_\xi = (G \otimes G)\,\text{vec}(w), \quad
        V_\xi = (B^T \otimes B^T)\,\text{vec}(\tilde x),
        \quad M_\xi = V_\xi U_\xi, \quad \text{vec}(\tilde y) = (A^T \otimes A^T)\, M,

    for every 2x2 output tile :math:`\tilde y`, with :math:`M_\xi` a
    :math:`(\text{tiles}, C_\text{in}) \times (C_\text{in}, C_\text{out})` GEMM for each
    of the 16 positions :math:`\xi` (per group). Raises ``ValueError`` for other
    kernels, strides or dilations.

    Shape:
        - input: :math:`(N, C_\text{in}, H_\text{in}, W_\text{in})` or
          :math:`(C_\text{in}, H_\text{in}, W_\text{in})`
        - weight: :math:`(C_\text{out}, C_\text{in}/G, 3, 3)`
        - output: :math:`(N, C_\text{out}, H_\text{out}, W_\text{out})` (channels-last
          memory) or unbatched
    """
    args = parse_conv_args(input, weight, bias, stride, padding, dilation, groups)
    if weight.shape[2:] != (3, 3) or args.stride != (1, 1) or args.dilation != (1, 1):
        raise ValueError(
            "conv2d_winograd implements F(2x2, 3x3) only: a 3x3 kernel with stride 1 and "
            f"dilation 1, but got kernel_size={tuple(weight.shape[2:])}, "
            f"stride={args.stride}, dilation={args.dilation}")
    groups, ((pt, pb), (pl, pr)) = args.groups, args.padding  # groups: not the matrix G
    N, C_in, H_in, W_in = args.input.shape
    C_out, C_in_g = weight.shape[:2]  # C_in_g = C_in / groups
    H_out, W_out = H_in + pt + pb - 2, W_in + pl + pr - 2
    T_h, T_w = (H_out + 1) // 2, (W_out + 1) // 2  # 2x2 output tiles, the last may stick out
    x = F.pad(args.input.permute(0, 2, 3, 1),  # (N, 2 T_h + 2, 2 T_w + 2, C_in), channels-last
              (0, 0, pl, pr + 2 * T_w - W_out, pt, pb + 2 * T_h - H_out)).contiguous()
    sN, sH, sW, sC = x.stride()
    tiles = x.as_strided((4, 4, N, T_h, T_w, C_in),
                         (sH, sW, sN, 2 * sH, 2 * sW, sC))  # every 4x4 tile x~, a view
    V = _transform(tiles.reshape(16, -1), "B", x)  # (16, P*C_in), P = N*T_h*T_w tiles
    V = V.view(16, -1, groups, C_in_g).transpose(1, 2)  # (16, groups, P, C_in_g)
    V = V.reshape(16 * groups, -1, C_in_g)  # (16*groups, P, C_in_g), a view when groups == 1
    taps = weight.reshape(C_out * C_in_g, 9).T  # (9, C_out*C_in_g): a transposed view, no copy
    U = _transform(taps, "G", x).view(16 * groups, C_out // groups, C_in_g)  # (16 G, O, C_in_g)
    U = U.transpose(1, 2)  # (16*groups, C_in_g, O) with O = C_out/groups; bmm reads it as is
    M = torch.bmm(V, U)  # (16*groups, P, C_in_g) @ (16*groups, C_in_g, O) -> (16*groups, P, O)
    M = M.view(16, groups, -1, C_out // groups).transpose(1, 2).reshape(16, -1)  # (16, P*C_out)
    Y = _transform(M, "A", x).view(2, 2, N, T_h, T_w, C_out)  # (2, 2, N, T_h, T_w, C_out)
    out = Y.permute(2, 3, 0, 4, 1, 5).reshape(N, 2 * T_h, 2 * T_w, C_out)[:, :H_out, :W_out]
    out = out.permute(0, 3, 1, 2)  # (N, C_out, H_out, W_out), channels-last in memory
    if bias is not None:
        out = out + bias.view(1, C_out, 1, 1)
    return out.squeeze(0) if args.unbatched else out


def _transform(t, which, like):
    """Multiply ``t`` by ``B^T ⊗ B^T`` (16x16), ``G ⊗ G`` (16x9) or ``A^T ⊗ A^T`` (4x16)."""
    B_T, G, A_T = winograd_matrices(like.dtype, like.device)
    matrix = {"B": B_T, "G": G, "A": A_T}[which]
    return torch.kron(matrix, matrix) @ t  # (16 or 4, rows of t) @ (rows, columns)
