"""Simulators of the outside world: payment gateway and network elements (HLR/HSS, PCRF, OCS, SM-DP+)."""
