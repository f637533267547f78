"""Gradient estimators: two-point random (RGE, SPSA, ZO-signSGD) and coordinatewise (CGE)."""

from zoo.core._deprecated import moved
from zoo.estimators.base import GradientMethod, GradientParams, GradientState
from zoo.estimators.coordinate import CGE
from zoo.estimators.gfm import GFM
from zoo.estimators.gfm_plus import GFMPlus
from zoo.estimators.two_point import RGE, RGESGD, SPSA, ZOSignSGD

__all__ = [
    "CGE",
    "GFM",
    "GFMPlus",
    "RGE",
    "RGESGD",
    "SPSA",
    "GradientMethod",
    "GradientParams",
    "GradientState",
    "ZOSignSGD",
]

# the numpy ZO-SGD method was zoo.ZOSGD, the name of zoo.torch.ZOSGD (a torch optimizer): renamed RGESGD
__getattr__ = moved(__name__, {"ZOSGD": "zoo.estimators.two_point:RGESGD"})
