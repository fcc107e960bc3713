from django.urls import include, path

from benchsite import views

urlpatterns = [
    # /o/token/, /o/introspect/, /o/revoke_token/ …
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("me", views.me),
    path("floor", views.floor),
    path("ready", views.ready),
]
