"""Conversations and card actions (the only package besides ``bot`` that imports botbuilder).

``load_actions()`` imports every module of this package so that each registers its actions with
``dialogs.actions.action``; a new workflow is a new module here, with no edit elsewhere.
"""

from __future__ import annotations

import importlib
import pkgutil


def load_actions() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
