"""Web API methods of views: views.publish (Home tabs), views.open, views.push, views.update.

Each checks the view as Slack does (``views.check_view``) and answers with the view as Slack
stores it (id, hash, state). ``views.open`` and ``views.push`` need a fresh trigger_id from the
person's interaction; ``views.publish`` needs a user of the workspace.
"""

from __future__ import annotations

from .errors import ApiCallError, invalid_arguments
from .models import Json
from .state import Workspace
from .views import Views, check_view
from .webapi import ApiCall, Method


class ViewMethods:
    """Handlers for the views.* methods."""

    def __init__(self, workspace: Workspace, views: Views) -> None:
        self.ws = workspace
        self.views = views

    def table(self) -> dict[str, Method]:
        """The methods this module serves."""
        return {
            "views.publish": Method(self.publish),
            "views.open": Method(self.open),
            "views.push": Method(self.push),
            "views.update": Method(self.update),
        }

    async def publish(self, call: ApiCall) -> Json:
        """views.publish: the Home tab of one person."""
        user = call.str_arg("user_id")
        if user not in self.ws.users or self.ws.users[user].is_bot:
            raise ApiCallError("user_not_found")
        spec = check_view(call.args.get("view"), "home")
        view = self.views.publish(user, spec, call.str_arg("hash") or None)
        return {"view": self.views.to_json(view)}

    async def open(self, call: ApiCall) -> Json:
        """views.open: a modal for the person whose interaction gave the trigger_id."""
        spec = check_view(call.args.get("view"), "modal")
        user = self.views.use_trigger(call.str_arg("trigger_id"))
        return {"view": self.views.to_json(self.views.open_modal(user, spec))}

    async def push(self, call: ApiCall) -> Json:
        """views.push: a modal on top of the one the person has open."""
        spec = check_view(call.args.get("view"), "modal")
        user = self.views.use_trigger(call.str_arg("trigger_id"))
        return {"view": self.views.to_json(self.views.push_modal(user, spec))}

    async def update(self, call: ApiCall) -> Json:
        """views.update: a new definition for an open modal or a published Home tab."""
        view_id, external_id = call.str_arg("view_id"), call.str_arg("external_id")
        if not view_id and not external_id:
            raise invalid_arguments("missing required field: view_id or external_id")
        view = self.views.find(view_id or None, external_id or None)
        spec = check_view(call.args.get("view"), view.type)
        updated = self.views.update(view, spec, call.str_arg("hash") or None)
        return {"view": self.views.to_json(updated)}
