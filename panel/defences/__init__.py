"""Defences against hostile vendor text and leaking answers."""
