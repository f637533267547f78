"""Gradient estimators: two-point random (RGE, SPSA, ZO-signSGD) and coordinatewise (CGE)."""

from zoo.estimators.base import GradientMethod, GradientParams, GradientState
from zoo.estimators.coordinate import CGE
from zoo.estimators.two_point import RGE, SPSA, ZOSGD, ZOSignSGD

__all__ = ["CGE", "RGE", "SPSA", "ZOSGD", "GradientMethod", "GradientParams", "GradientState", "ZOSignSGD"]
