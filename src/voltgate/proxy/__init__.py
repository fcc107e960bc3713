"""`voltgate proxy`: a vehicle command proxy that signs each REST command with the app's key
(Tesla's vehicle command protocol) and forwards every other Fleet API call as it is."""
