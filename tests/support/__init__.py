"""Test support shared by the unit, property and benchmark code."""
