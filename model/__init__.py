"""The city model: one validated source of truth that every part of govcloud reads."""

from model.city import CityModel, NetSite
from model.errors import InvalidModel, ModelError
from model.loader import load_city

__all__ = ["CityModel", "InvalidModel", "ModelError", "NetSite", "load_city"]
