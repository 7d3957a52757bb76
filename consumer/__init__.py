"""What a consumer of the balance events takes from this repository (not shipped in the Lambda zip)."""

from .follower import BalanceFollower, Delivery, Gap

__all__ = ["BalanceFollower", "Delivery", "Gap"]
