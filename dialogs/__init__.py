"""Conversations and card actions (the only package besides ``bot`` that imports botbuilder).

Each module declares its verbs with ``dialogs.actions.action``; ``dialogs.registry.Workflows.load()``
reads the declarations of every module of this package, so a new workflow is a new module here,
with no edit elsewhere.
"""
