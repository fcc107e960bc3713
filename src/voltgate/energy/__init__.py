"""A user's home energy sites (Tesla Fleet API energy products)."""
