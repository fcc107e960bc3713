"""Devices (chargers): enrollment credentials, registration, device identity and inventory.

A device's identity is a client of kind `device` (`voltgate.identity`): its id is the client id
(`vgc_test_…`/`vgc_live_…`), its secret a client secret, so token issuance, the bearer guard and
secret rotation with overlap are the identity core's, unchanged.
"""
