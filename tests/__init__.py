"""Tests of the Partner Benefits Bot."""
