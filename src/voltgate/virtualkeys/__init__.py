"""Virtual keys: which apps' public keys each vehicle holds, paired by its owner, in which role."""
