"""be.ENERGISED's contacts: the users its GraphQL API acts for, by login name or external IdP."""
