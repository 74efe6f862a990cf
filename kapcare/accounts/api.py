from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Router, Schema

from kapcare.accounts.api_auth import api_caller

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: uuid.UUID
    username: str
    name: str
    email: str
    roles: list[str]
    prescriber_credential: str
    licence_number: str


@router.get("/me", response=MeOut, summary="The staff member making the request")
def me(request: HttpRequest) -> dict[str, object]:
    user = api_caller(request)
    return {
        "id": user.public_id,
        "username": user.username,
        "name": user.display_name,
        "email": user.email,
        "roles": [role.value for role in user.roles],
        "prescriber_credential": user.prescriber_credential,
        "licence_number": user.licence_number,
    }
