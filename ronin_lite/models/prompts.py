"""RONIN's prompt path: cross-attention into the latent, the prompt generator, soft masks.

RONIN (arXiv 2507.14851) conditions its Turtle backbone on a per-frame *prompt* ``P_t`` that the
network predicts from its own features, and that training grounds in language (``L1(P_t, e_t)``
with ``e_t`` the text embedding of a description of the degraded frame; see
:mod:`ronin_lite.train`). Three modules make the path; :class:`~ronin_lite.models.ronin.RoninLite`
wires them into the backbone::

    encoder1 (B, C, H', W') ──pool──► keys / values ─┐
    latent (B, 8C, H'/8, W'/8) ─────► queries ───────┴─► cross-attention ─► latent + out
                                                               │
                                                  GAP -> FC -> GELU -> FC ─► P_t (B, 384)
                                                                               │
                                      linear -> 2 sigmoid ─► masks (B, C_s, 1, 1) on decoder stages

**Cross-attention (encoder stage 1 -> latent).** The paper carries degradation information from
the first encoder stage, where noise, blur and blocking are still visible pixel by pixel, to the
latent stage, where the prompt is generated. Queries come from the latent tokens, keys and
values from encoder-1 features; the output is added to the latent.
*The paper does not say how encoder 1 is brought to the latent.* We average-pool it to a fixed
``grid x grid`` (default 8 x 8 = 64 tokens) and project it with a 1x1 convolution: the cost is
``O(latent tokens x 64)`` at any resolution (pooling to the latent's own resolution would be
quadratic in the latent's tokens: 14,400^2 per head for a 720p frame). Averaging keeps what
the prompt needs: encoder 1's features are non-linear functions of 3x3 neighbourhoods, so their
regional means are local statistics (noise energy, edge sharpness, blockiness) per region.
The output projection starts at zero, so the module starts as the identity and the backbone's
behaviour is unchanged until training finds a use for it.

**Prompt generator.** ``P_t = FC(GELU(FC(GAP(latent))))`` (the paper's), hidden width
``prompt_dim``, output ``prompt_dim`` = 384, the width of the sentence encoder.

**Soft-mask injection.** ``mask_s = 2 sigmoid(W_s P_t + b_s)``, one ``(B, C_s, 1, 1)`` per-channel
mask for each chosen decoder stage ``s``, multiplying that stage's output features. Stages:
``"none"``, ``"first"`` (``decoder3``, the deepest), ``"last2"`` (``decoder2`` and ``decoder1``;
the paper's best and our default), ``"all"``: the paper's ablation.
*Departure: the factor 2 and zero-initialised* ``W_s, b_s``. With the paper's plain sigmoid
and a default initialisation every mask starts near 0.5 and halves the decoder's features, an
arbitrary rescaling the backbone then has to undo. Ours starts at exactly 1 (the identity), so
a fresh RONIN computes exactly what its backbone does, and the masks can damp (towards 0) or
boost (towards 2) a channel; the range is ``(0, 2)`` instead of ``(0, 1)``. A zero slope
``2 sigmoid'(0) = 1/2`` also keeps them far from the sigmoid's flat tails (initialising the bias
high, ``sigmoid(4) = 0.98``, would start near the identity but with a 28x smaller gradient).
``condition="sigmoid"`` (:class:`PlainSigmoidInjection`) is the paper's form, with PyTorch's
default initialisation of ``W_s, b_s``. The grounding study trains both on the val scenes
(``run_grounding_study.py choose``; ``val_choices`` in ``results/grounding_study_tiny.json``,
notebook 09): at ``tiny`` scale they tie, in PSNR and in how well the prompt approximates the
text, so ours stays the default for the design reason above (a fresh RONIN-lite is exactly its
backbone), not for a measured gain.

**Course variants, not the paper's** (the grounding study, :mod:`ronin_lite.study`):
``condition="film"`` (:class:`FiLMInjection`) turns the prompt into a per-channel scale *and
shift*, identity at init; ``inject="all+latent"`` also modulates the latent features (before
the decoder; :class:`~ronin_lite.models.ronin.RoninLite` applies that one).
``history_gate=True`` (:class:`HistoryGate`) sends the prompt into the history router instead of
(or besides) the features: per channel, how much the decoder's router should read the cached
frames (:mod:`ronin_lite.models.history`). The paper's masks stay the default; the study's
results say what the variants change.
"""

from __future__ import annotations

from typing import Literal

from einops import rearrange
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import framewide
from .blocks import LayerNorm2d
from .unet import DECODER_STAGES

InjectMode = Literal["none", "first", "last2", "all", "all+latent"]
#: Decoder stages that receive a soft mask, per injection mode (the paper's ablation).
INJECT_STAGES: dict[str, tuple[str, ...]] = {
    "none": (),
    "first": ("decoder3",),
    "last2": ("decoder2", "decoder1"),
    "all": DECODER_STAGES,
    "all+latent": ("latent", *DECODER_STAGES),  # a course variant: also the latent features
}
#: how the prompt enters the features: RONIN's soft masks (a gain per channel; ``mask`` ours in
#: (0, 2), identity at init, ``sigmoid`` the paper's plain sigmoid in (0, 1)) or FiLM
CONDITIONS = ("mask", "sigmoid", "film")


def _check_prompt(prompt: object, prompt_dim: int) -> None:
    """What the injections and the history gate take: a ``(B, prompt_dim)`` tensor."""
    if not isinstance(prompt, Tensor) or prompt.ndim != 2 or prompt.shape[1] != prompt_dim:
        got = tuple(prompt.shape) if isinstance(prompt, Tensor) else type(prompt).__name__
        raise ValueError(f"prompt must be shaped (B, {prompt_dim}), got {got}")


def _check_map(x: object, channels: int, what: str) -> Tensor:
    if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1] != channels:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{what} must be shaped (B, {channels}, H, W), got {got}")
    return x


class EncoderLatentCrossAttention(nn.Module):
    """Multi-head cross-attention: latent queries, pooled encoder-1 keys and values (residual).

    ``forward(encoder1 (B, C_e, H', W'), latent (B, C_l, h, w)) -> (B, C_l, h, w)``.
    """

    def __init__(self, encoder_channels: int, latent_channels: int, heads: int, grid: int = 8):
        super().__init__()
        if heads < 1 or latent_channels % heads:
            raise ValueError(f"latent channels ({latent_channels}) must divide into {heads} heads")
        if grid < 1:
            raise ValueError(f"grid must be >= 1, got {grid}")
        self.encoder_channels, self.latent_channels = encoder_channels, latent_channels
        self.heads, self.grid = heads, grid
        self.norm_latent = LayerNorm2d(latent_channels)
        self.norm_encoder = LayerNorm2d(encoder_channels)
        self.to_q = nn.Conv2d(latent_channels, latent_channels, 1, bias=False)
        self.to_kv = nn.Conv2d(encoder_channels, 2 * latent_channels, 1, bias=False)
        self.project = nn.Conv2d(latent_channels, latent_channels, 1)
        nn.init.zeros_(self.project.weight)  # starts as the identity: latent + 0
        nn.init.zeros_(self.project.bias)

    def forward(self, encoder1: Tensor, latent: Tensor) -> Tensor:
        _check_map(encoder1, self.encoder_channels, "encoder-1 features")
        _check_map(latent, self.latent_channels, "the latent")
        b, c, h, w = latent.shape
        heads, d = self.heads, c // self.heads
        # keys / values: encoder 1 averaged over a fixed grid of regions, then 1x1-projected
        frame = framewide.current()  # a tile of a frame: the frame's grid, not the tile's
        pooled = (F.adaptive_avg_pool2d(encoder1, self.grid) if frame is None
                  else frame.grid_pool(encoder1, self.grid))  # (B, C_e, H', W') -> (B, C_e, g, g)
        kv = self.to_kv(self.norm_encoder(pooled))  # (B, 2 C_l, g, g)
        kv = rearrange(kv, "b (two heads d) gh gw -> b two heads d (gh gw)", two=2, heads=heads)
        k, v = kv.transpose(-2, -1).unbind(1)  # 2 x (B, h, g^2, d), tokens as rows
        # queries: every latent token
        q = rearrange(self.to_q(self.norm_latent(latent)), "b (heads d) h w -> b heads d (h w)",
                      heads=heads).transpose(-2, -1)  # (B, h, hw, d)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, h, hw, d)
        out = rearrange(out.transpose(-2, -1), "b heads d (h w) -> b (heads d) h w", h=h)
        return latent + self.project(out)


class PromptGenerator(nn.Module):
    """``P_t = FC(GELU(FC(GAP(latent))))``: ``(B, C_l, h, w) -> (B, prompt_dim)``."""

    def __init__(self, latent_channels: int, prompt_dim: int = 384, hidden: int | None = None):
        super().__init__()
        if prompt_dim < 1:
            raise ValueError(f"prompt_dim must be >= 1, got {prompt_dim}")
        hidden = hidden or prompt_dim
        self.latent_channels, self.prompt_dim = latent_channels, prompt_dim
        self.fc1 = nn.Linear(latent_channels, hidden)
        self.fc2 = nn.Linear(hidden, prompt_dim)

    def forward(self, latent: Tensor) -> Tensor:
        _check_map(latent, self.latent_channels, "the latent")
        frame = framewide.current()  # a tile of a frame: the frame's average, not the tile's
        pooled = latent.mean(dim=(2, 3)) if frame is None else frame.mean(latent)  # (B, C_l)
        return self.fc2(F.gelu(self.fc1(pooled)))  # (B, C_l) -> (B, hidden) -> (B, prompt_dim)


class SoftMaskInjection(nn.Module):
    """Prompt -> per-channel soft masks ``2 sigmoid(W_s P + b_s)`` in ``(0, 2)``, 1 at init.

    ``stages`` maps each decoder stage to inject into to its channel count;
    ``forward(prompt (B, prompt_dim)) -> {stage: (B, C_s, 1, 1)}``, the ``masks`` argument of
    :meth:`~ronin_lite.models.unet.StreamingUNet.decode`.
    """

    def __init__(self, prompt_dim: int, stages: dict[str, int]):
        super().__init__()
        if not stages:
            raise ValueError("SoftMaskInjection needs at least one stage; inject='none' has none")
        unknown = sorted(set(stages) - set(INJECT_STAGES["all+latent"]))
        if unknown:
            raise ValueError(f"unknown stage(s) {unknown}; choose from "
                             f"{INJECT_STAGES['all+latent']}")
        self.prompt_dim = prompt_dim
        self.linears = nn.ModuleDict({s: nn.Linear(prompt_dim, self.width * c)
                                      for s, c in stages.items()})
        for linear in self.linears.values():  # 2 sigmoid(0) = 1: every mask starts as identity
            nn.init.zeros_(linear.weight)
            nn.init.zeros_(linear.bias)

    #: outputs per channel: one gain
    width = 1

    def _check(self, prompt: object) -> None:
        _check_prompt(prompt, self.prompt_dim)

    def forward(self, prompt: Tensor) -> dict[str, Tensor]:
        self._check(prompt)
        # (B, prompt_dim) -> (B, C_s) -> (B, C_s, 1, 1) for every chosen stage
        return {s: (2 * torch.sigmoid(linear(prompt)))[..., None, None]
                for s, linear in self.linears.items()}


class PlainSigmoidInjection(SoftMaskInjection):
    """The paper's soft masks as written: ``sigmoid(W_s P + b_s)`` in ``(0, 1)``, with
    ``nn.Linear``'s default initialisation (every mask starts near 0.5, not at the identity).
    ``forward(prompt (B, prompt_dim)) -> {stage: (B, C_s, 1, 1)}``."""

    def __init__(self, prompt_dim: int, stages: dict[str, int]):
        super().__init__(prompt_dim, stages)
        for linear in self.linears.values():  # undo the parent's zero init: PyTorch's default
            linear.reset_parameters()

    def forward(self, prompt: Tensor) -> dict[str, Tensor]:
        self._check(prompt)
        return {s: torch.sigmoid(linear(prompt))[..., None, None]
                for s, linear in self.linears.items()}


class FiLMInjection(SoftMaskInjection):
    """Prompt -> per-channel FiLM ``(scale, shift) = (1 + W_s P + b_s, V_s P + c_s)``, the
    identity at init (zero weights). **A course variant, not the paper's.**

    Feature-wise linear modulation (Perez et al., AAAI 2018) can *add* a per-channel offset that
    depends on the degradation, where a gain can only re-weight what the decoder already
    computes; a gain is also bounded to ``(0, 2)`` by the sigmoid. The grounding study
    (``data_scripts/run_grounding_study.py``, notebook 09) measures both with the oracle
    prompt and with the generated one. ``forward(prompt (B, prompt_dim)) -> {stage: (scale,
    shift)}``, each ``(B, C_s, 1, 1)``.
    """

    width = 2

    def forward(self, prompt: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
        self._check(prompt)
        out = {}
        for s, linear in self.linears.items():
            gamma, beta = linear(prompt)[..., None, None].chunk(2, dim=1)  # 2 x (B, C_s, 1, 1)
            out[s] = (1 + gamma, beta)
        return out


class HistoryGate(nn.Module):
    """Prompt -> per-channel history gates ``g_b = W_b P + c_b``, 0 at init. **A course
    variant, not the paper's**: the grounding study's "prompt into the history router".

    ``blocks`` maps each decoder history block (its state key: ``"decoder3.0"`` in ``tiny``,
    ``"decoder3.1"`` in ``small``, one per decoder level in ``full``) to its channel count;
    ``forward(prompt (B, prompt_dim)) -> {block: (B, C_b)}``, the ``gates`` argument of
    :meth:`~ronin_lite.models.unet.StreamingUNet.decode`. A gate shifts the logits
    of the cached frames' keys in that block's router, so ``exp(g)`` multiplies the weight each
    query channel gives the history against the current frame (:mod:`.history`). RONIN's masks
    and FiLM re-weight *features*; the gate re-weights *time*: a degradation that changes within
    a clip (``tv-lite``) leaves the history carrying the old one, which the prompt can see and
    the router, on its own, cannot (whether it pays is the grounding study's question: notebook
    09). Zero weights: a fresh network routes exactly as its backbone.
    """

    def __init__(self, prompt_dim: int, blocks: dict[str, int]):
        super().__init__()
        if not blocks:
            raise ValueError("HistoryGate needs at least one decoder history block; this "
                             "backbone has none (history=False?)")
        self.prompt_dim = prompt_dim
        # ModuleDict keys may not contain "."; the block keys do ("decoder3.1")
        self.blocks = dict(blocks)
        self.linears = nn.ModuleDict({key.replace(".", "_"): nn.Linear(prompt_dim, c)
                                      for key, c in blocks.items()})
        for linear in self.linears.values():  # g = 0: the plain router
            nn.init.zeros_(linear.weight)
            nn.init.zeros_(linear.bias)

    def forward(self, prompt: Tensor) -> dict[str, Tensor]:
        _check_prompt(prompt, self.prompt_dim)
        # (B, prompt_dim) -> (B, C_b) for every decoder history block
        return {key: self.linears[key.replace(".", "_")](prompt) for key in self.blocks}
