"""The sandbox: a believable world to try every endpoint on one machine."""
