"""Update rules as optax-style transforms fed by a zeroth-order estimate: SGD, momentum, Adam, sign, clipping,
schedules, and the success-based step-size control that is the gradient methods' default
(:mod:`zoo.updates.step_control`); ``chain`` composes them. See :mod:`zoo.updates.base`."""

from zoo.updates.adam import Adam, ScaleByAdam, scale_by_adam
from zoo.updates.base import (
    Chain,
    Transform,
    UpdateRule,
    apply_in_chunks,
    apply_in_place,
    chain,
    make_rule,
    rules,
)
from zoo.updates.clip import Clip, ClipByNorm, clip, clip_by_norm
from zoo.updates.decay import AddDecayedWeights, add_decayed_weights
from zoo.updates.line_search import LineSearchPhases, RankingLineSearch
from zoo.updates.momentum import Momentum, Trace, trace
from zoo.updates.plateau import Plateau, plateau_update
from zoo.updates.scale import (
    Scale,
    ScaleByLearningRate,
    ScaleBySchedule,
    scale,
    scale_by_learning_rate,
    scale_by_schedule,
)
from zoo.updates.schedules import Constant, Cosine, ExponentialDecay, InverseSqrt, Schedule, StepDecay
from zoo.updates.sgd import SGD
from zoo.updates.sign import ScaleBySign, Sign, scale_by_sign
from zoo.updates.step_control import SuccessStep, length_scale

__all__ = [
    "SGD",
    "AddDecayedWeights",
    "Adam",
    "Chain",
    "Clip",
    "ClipByNorm",
    "Constant",
    "Cosine",
    "ExponentialDecay",
    "InverseSqrt",
    "LineSearchPhases",
    "Momentum",
    "Plateau",
    "RankingLineSearch",
    "Scale",
    "ScaleByAdam",
    "ScaleByLearningRate",
    "ScaleBySchedule",
    "ScaleBySign",
    "Schedule",
    "Sign",
    "StepDecay",
    "SuccessStep",
    "Trace",
    "Transform",
    "UpdateRule",
    "add_decayed_weights",
    "apply_in_chunks",
    "apply_in_place",
    "chain",
    "clip",
    "clip_by_norm",
    "length_scale",
    "make_rule",
    "plateau_update",
    "rules",
    "scale",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_schedule",
    "scale_by_sign",
    "trace",
]
