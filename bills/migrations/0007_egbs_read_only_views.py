"""Read-only views with the names and columns of DIGIT billing-service's tables (PostgreSQL only).

DIGIT's searcher (bill-genie) and the ws/sw calculators' bulk queries read ``egbs_demand_v1``,
``egbs_demanddetail_v1``, ``egbs_bill_v1``, ``egbs_billdetail_v1`` and ``egbs_billaccountdetail_v1`` directly. These
views give them our rows in DIGIT's columns (flyway migrations of billing-service up to V20221206): ids as text,
times as epoch milliseconds, the tenant as its code. Every view joins the tenant table, so PostgreSQL does not
make them updatable: writes are refused. On SQLite nothing is created. See docs/digit-deployment.md.
"""

from django.db import migrations

EPOCH = "floor(EXTRACT(EPOCH FROM {0}) * 1000)::bigint"

VIEWS = {
    "egbs_demand_v1": f"""
        SELECT d.id::text AS id, d.consumer_code AS consumercode, d.consumer_type AS consumertype,
               d.business_service AS businessservice, d.payer_id::text AS payer,
               {EPOCH.format("d.tax_period_from")} AS taxperiodfrom, {EPOCH.format("d.tax_period_to")} AS taxperiodto,
               d.created_by AS createdby, {EPOCH.format("d.created_at")} AS createdtime,
               d.modified_by AS lastmodifiedby, {EPOCH.format("d.modified_at")} AS lastmodifiedtime,
               t.code AS tenantid, d.minimum_amount_payable AS minimumamountpayable, d.status AS status,
               d.additional_details::json AS additionaldetails,
               {EPOCH.format("d.bill_expiry_time")} AS billexpirytime,
               d.is_payment_completed AS ispaymentcompleted,
               {EPOCH.format("d.fixed_bill_expiry_date")} AS fixedbillexpirydate
          FROM demands_demand d JOIN masters_tenant t ON t.id = d.tenant_id""",
    "egbs_demanddetail_v1": f"""
        SELECT l.id::text AS id, l.demand_id::text AS demandid, l.tax_head_code AS taxheadcode,
               l.tax_amount AS taxamount, l.collection_amount AS collectionamount,
               l.created_by AS createdby, {EPOCH.format("l.created_at")} AS createdtime,
               l.modified_by AS lastmodifiedby, {EPOCH.format("l.modified_at")} AS lastmodifiedtime,
               t.code AS tenantid, l.additional_details::json AS additionaldetails
          FROM demands_demanddetail l JOIN demands_demand d ON d.id = l.demand_id
          JOIN masters_tenant t ON t.id = d.tenant_id""",
    "egbs_bill_v1": f"""
        SELECT b.id::text AS id, t.code AS tenantid, NULLIF(b.payer_name, '') AS payername,
               NULLIF(b.payer_address, '') AS payeraddress, NULLIF(b.payer_email, '') AS payeremail,
               (b.status = 'ACTIVE') AS isactive, (b.status = 'CANCELLED') AS iscancelled,
               b.created_by AS createdby, {EPOCH.format("b.created_at")} AS createddate,
               b.modified_by AS lastmodifiedby, {EPOCH.format("b.modified_at")} AS lastmodifieddate,
               NULLIF(b.mobile_number, '') AS mobilenumber, b.status AS status,
               b.additional_details::jsonb AS additionaldetails, NULLIF(b.file_store_id, '') AS filestoreid,
               b.payer_id::text AS payerid, b.consumer_code AS consumercode
          FROM bills_bill b JOIN masters_tenant t ON t.id = b.tenant_id""",
    "egbs_billdetail_v1": f"""
        SELECT bd.id::text AS id, t.code AS tenantid, bd.bill_id::text AS billid,
               b.business_service AS businessservice, b.bill_number AS billno,
               {EPOCH.format("b.bill_date")} AS billdate, b.consumer_code AS consumercode,
               d.consumer_type AS consumertype, NULL::varchar AS billdescription, NULL::varchar AS displaymessage,
               d.minimum_amount_payable AS minimumamount, bd.amount AS totalamount,
               NULL::boolean AS callbackforapportioning, rules.part_payment_allowed AS partpaymentallowed,
               rules.collection_modes AS collectionmodesnotallowed,
               b.created_by AS createdby, {EPOCH.format("b.created_at")} AS createddate,
               b.modified_by AS lastmodifiedby, {EPOCH.format("b.modified_at")} AS lastmodifieddate,
               NULL::bigint AS receiptdate, NULL::varchar AS receiptnumber,
               {EPOCH.format("bd.from_period")} AS fromperiod, {EPOCH.format("bd.to_period")} AS toperiod,
               bd.demand_id::text AS demandid, rules.is_advance_allowed AS isadvanceallowed,
               {EPOCH.format("bd.expiry_date")} AS expirydate, bd.additional_details::jsonb AS additionaldetails
          FROM bills_billdetail bd JOIN bills_bill b ON b.id = bd.bill_id
          JOIN masters_tenant t ON t.id = b.tenant_id JOIN demands_demand d ON d.id = bd.demand_id
          LEFT JOIN LATERAL (
              SELECT bs.part_payment_allowed, bs.is_advance_allowed,
                     array_to_string(ARRAY(SELECT jsonb_array_elements_text(bs.collection_modes_not_allowed)), ',')
                         AS collection_modes
                FROM masters_businessservice bs JOIN masters_tenant st ON st.id = bs.tenant_id
               WHERE bs.code = b.business_service AND st.code IN (t.code, split_part(t.code, '.', 1))
               ORDER BY (st.code = t.code) DESC LIMIT 1
          ) rules ON TRUE""",
    "egbs_billaccountdetail_v1": f"""
        SELECT a.id::text AS id, t.code AS tenantid, a.bill_detail_id::text AS billdetail, NULL::varchar AS glcode,
               a."order" AS orderno, NULL::varchar AS accountdescription, NULL::numeric AS creditamount,
               NULL::numeric AS debitamount, NULL::boolean AS isactualdemand, NULL::varchar AS purpose,
               b.created_by AS createdby, {EPOCH.format("b.created_at")} AS createddate,
               b.modified_by AS lastmodifiedby, {EPOCH.format("b.modified_at")} AS lastmodifieddate,
               NULL::numeric AS cramounttobepaid, a.tax_head_code AS taxheadcode, a.amount AS amount,
               a.adjusted_amount AS adjustedamount, a.demand_detail_id::text AS demanddetailid,
               NULL::jsonb AS additionaldetails
          FROM bills_billaccountdetail a JOIN bills_billdetail bd ON bd.id = a.bill_detail_id
          JOIN bills_bill b ON b.id = bd.bill_id JOIN masters_tenant t ON t.id = b.tenant_id""",
}


def create_views(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, query in VIEWS.items():
        schema_editor.execute(f"CREATE OR REPLACE VIEW {name} AS {query}")


def drop_views(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in reversed(list(VIEWS)):
        schema_editor.execute(f"DROP VIEW IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("bills", "0006_human_labels"),
        ("demands", "0002_demand_detail_position"),
        ("masters", "0002_digit_users_payer_source_tenant_extra"),
    ]

    operations = [migrations.RunPython(create_views, drop_views)]
