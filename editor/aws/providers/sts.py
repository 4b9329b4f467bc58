"""AWS Security Token Service: who is calling."""

from __future__ import annotations

from editor.aws.providers.base import Provider


class StsProvider(Provider):
    def GetCallerIdentity(self, params: dict) -> dict:
        # No permission is needed to ask who one is (as in AWS).
        return {"UserId": self.principal.user_id, "Account": self.principal.account_id, "Arn": self.principal.arn}
