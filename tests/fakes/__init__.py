"""Fakes for the I/O edges only (servers on loopback); the real client libraries run against them."""
