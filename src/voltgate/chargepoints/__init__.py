"""Public charge points (OCPI 2.2.1's Locations: location, EVSE, connector) and their search by
distance: the operators' chargers at sites with a position, and imported public points."""
