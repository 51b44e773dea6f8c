"""Plenary: a backend for hybrid forum sessions."""
