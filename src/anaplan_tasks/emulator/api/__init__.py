"""The emulator's HTTP layer: Anaplan's auth and bulk API paths plus test control routes."""

from .app import EmulatorApp
from .control import ControlGate, EmulatorControl
from .faults import FaultRule

__all__ = ["ControlGate", "EmulatorApp", "EmulatorControl", "FaultRule"]
