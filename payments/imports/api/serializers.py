"""REST serializers of payment imports: the upload, the run with its counters, and a row with its outcome."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from rest_framework import serializers

from billing_project.api.types import ModelSerializer, Serializer
from masters.models import Tenant
from payments.imports.domain.csvfile import MAX_FILE_BYTES
from payments.imports.models import ImportKind, ImportRow, ImportRun, RowOutcome


class ImportRunCreateSerializer(Serializer):
    """multipart/form-data: the kind of file, the tenant it is for, and the CSV file."""

    kind = serializers.ChoiceField(choices=ImportKind.choices)
    tenant = serializers.SlugRelatedField(
        slug_field="code", queryset=Tenant.objects.all(), help_text="Tenant code, e.g. pb.amritsar"
    )
    file = serializers.FileField(help_text=f"A UTF-8 CSV file of at most {MAX_FILE_BYTES} bytes")

    def validate_file(self, value: UploadedFile) -> UploadedFile:
        if (value.size or 0) > MAX_FILE_BYTES:
            raise serializers.ValidationError(f"The file has {value.size} bytes; at most {MAX_FILE_BYTES} are accepted")
        return value


class ImportRunSerializer(ModelSerializer):
    tenant = serializers.CharField(source="tenant.code", read_only=True)
    progress_percent = serializers.FloatField(read_only=True, help_text="processed / total_rows, in %")
    uploaded_by = serializers.CharField(source="uploaded_by_name", read_only=True)

    class Meta:
        model = ImportRun
        fields = [
            "id",
            "kind",
            "tenant",
            "file_name",
            "file_sha256",
            "uploaded_by",
            "status",
            "total_rows",
            "processed",
            "progress_percent",
            "applied",
            "duplicate",
            "rejected",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
        ]
        read_only_fields = fields


class ImportRowSerializer(ModelSerializer):
    raw = serializers.DictField(child=serializers.CharField(allow_blank=True), help_text="The line as read")
    duplicate_of_run = serializers.UUIDField(
        source="duplicate_of.run_id", read_only=True, allow_null=True, default=None, help_text="Run of duplicate_of"
    )
    duplicate_of_line = serializers.IntegerField(
        source="duplicate_of.line_number", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = ImportRow
        fields = [
            "line_number",
            "outcome",
            "error_code",
            "error_message",
            "note",
            "row_key",
            "raw",
            "payment",
            "gateway_transaction",
            "duplicate_of",
            "duplicate_of_run",
            "duplicate_of_line",
            "settlement_date",
            "created_at",
        ]
        read_only_fields = fields


class RowFilterSerializer(Serializer):
    outcome = serializers.ChoiceField(choices=RowOutcome.choices, required=False)

    def outcome_value(self) -> Any:
        return self.validated_data.get("outcome")
