"""A fleet of simulated chargers that talk to a voltgate server through the SDK only
(`voltgate sim chargers`); nothing here imports the server."""
