"""Adaptive Cards 1.5 as pure functions: domain data and a translator in, card JSON out. No I/O."""
