"""`voltgate …` commands, one module per noun."""
