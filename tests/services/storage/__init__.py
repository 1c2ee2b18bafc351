"""Tests of the storage engines."""
