"""be.ENERGISED's charging preconditions (contracts, payment methods, cards) and remote charging."""
