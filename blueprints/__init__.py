"""Routes: thin views over the services. Registered from one explicit list."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from blueprints import health
    from blueprints.api import actions as api_actions
    from blueprints.api import agreements as api_agreements
    from blueprints.api import audit as api_audit
    from blueprints.api import auth as api_auth
    from blueprints.api import children as api_children
    from blueprints.api import chronology as api_chronology
    from blueprints.api import consent as api_consent
    from blueprints.api import directory as api_directory
    from blueprints.api import documents as api_documents
    from blueprints.api import events as api_events
    from blueprints.api import fhir as api_fhir
    from blueprints.api import identity_providers as api_identity_providers
    from blueprints.api import meetings as api_meetings
    from blueprints.api import notifications as api_notifications
    from blueprints.api import oauth as api_oauth
    from blueprints.api import organisations as api_organisations
    from blueprints.api import referrals as api_referrals
    from blueprints.api import reports as api_reports
    from blueprints.api import screenings as api_screenings
    from blueprints.api import system_accounts as api_system_accounts
    from blueprints.api import users as api_users
    from blueprints.web import account as web_account
    from blueprints.web import actions as web_actions
    from blueprints.web import admin as web_admin
    from blueprints.web import agreements as web_agreements
    from blueprints.web import api_docs as web_api_docs
    from blueprints.web import audit as web_audit
    from blueprints.web import auth as web_auth
    from blueprints.web import children as web_children
    from blueprints.web import chronology as web_chronology
    from blueprints.web import consent as web_consent
    from blueprints.web import directory as web_directory
    from blueprints.web import documents as web_documents
    from blueprints.web import events as web_events
    from blueprints.web import identity_providers as web_identity_providers
    from blueprints.web import meeting_forms as web_meeting_forms
    from blueprints.web import meetings as web_meetings
    from blueprints.web import notifications as web_notifications
    from blueprints.web import referral_actions as web_referral_actions
    from blueprints.web import referral_detail as web_referral_detail
    from blueprints.web import referral_drafts as web_referral_drafts
    from blueprints.web import referral_forms as web_referral_forms
    from blueprints.web import referral_search as web_referral_search
    from blueprints.web import reports as web_reports
    from blueprints.web import screenings as web_screenings
    from blueprints.web import sso as web_sso
    from blueprints.web import system_accounts as web_system_accounts
    from blueprints.web import worklists as web_worklists
    from referral_app.extensions import csrf

    for blueprint in (
        health.blp,
        web_auth.blp,
        web_account.blp,
        web_worklists.blp,
        web_referral_search.blp,
        web_referral_forms.blp,
        web_referral_drafts.blp,
        web_referral_detail.blp,
        web_referral_actions.blp,
        web_admin.blp,
        web_audit.blp,
        web_api_docs.blp,
        web_children.blp,
        web_chronology.blp,
        web_actions.blp,
        web_meetings.blp,
        web_meeting_forms.blp,
        web_notifications.blp,
        web_reports.blp,
        web_screenings.blp,
        web_agreements.blp,
        web_consent.blp,
        web_documents.blp,
        web_directory.blp,
        web_system_accounts.blp,
        web_sso.blp,
        web_identity_providers.blp,
        web_events.blp,
    ):
        app.register_blueprint(blueprint)

    api = app.extensions["referral_api"]
    # The API authenticates with bearer tokens only and never reads cookies,
    # so a forged cross-site request carries no credentials: no CSRF token.
    for api_blueprint in (
        api_auth.blp,
        api_organisations.blp,
        api_users.blp,
        api_referrals.blp,
        api_children.blp,
        api_chronology.blp,
        api_actions.blp,
        api_meetings.blp,
        api_audit.blp,
        api_notifications.blp,
        api_reports.blp,
        api_screenings.blp,
        api_agreements.blp,
        api_documents.blp,
        api_consent.blp,
        api_fhir.blp,
        api_directory.blp,
        api_events.blp,
        api_oauth.blp,
        api_system_accounts.blp,
        api_identity_providers.blp,
    ):
        csrf.exempt(api_blueprint)
        api.register_blueprint(api_blueprint, url_prefix="/api/v1")
