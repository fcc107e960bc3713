"""The developer portal's domain: apps developers register themselves, and each app's usage."""
