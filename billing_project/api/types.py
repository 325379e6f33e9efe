"""The DRF and django-filter base classes, subscripted for mypy and plain at run time.

DRF's stubs make ``Serializer``, ``ModelSerializer`` and ``GenericViewSet`` generic, and django-filter has no
types at all, so every subclass needed a ``# type: ignore``. Subclass these instead (as ``billing_project.admin``
does for the admin classes):

    from billing_project.api.types import FilterSet, GenericViewSet, ModelSerializer, Serializer
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_filters
from rest_framework import serializers, viewsets

if TYPE_CHECKING:
    Serializer = serializers.Serializer[Any]
    ModelSerializer = serializers.ModelSerializer[Any]
    GenericViewSet = viewsets.GenericViewSet[Any]

    class FilterSet(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped: the one ignore
        pass

else:  # not subscriptable at run time
    Serializer = serializers.Serializer
    ModelSerializer = serializers.ModelSerializer
    GenericViewSet = viewsets.GenericViewSet
    FilterSet = django_filters.FilterSet

__all__ = ["FilterSet", "GenericViewSet", "ModelSerializer", "Serializer"]
