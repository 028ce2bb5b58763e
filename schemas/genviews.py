#!/usr/bin/env python3
"""Writes schemas/{stu3,r4}/*.json, the built-in claims ViewDefinitions.

The checked-in JSON is what dpcetl embeds and what the tests pin (golden tables, round trip,
README, DDL). This script is how the JSON was produced: the repetitive parts (12 unionAll
branches of coverage_month, one column list for two FHIR versions) are easier to keep right here. After editing, run
`python3 schemas/genviews.py && go test ./schemas -update` and re-check the golden diffs by hand.
"""
import json, os, sys

SCHEMA_VERSION = '1.0.0'  # must equal schemas.Version
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
BB = 'https://bluebutton.cms.gov/resources/'
V = BB + 'variables/'
EOBTYPE = BB + 'codesystem/eob-type'
NPI = 'http://hl7.org/fhir/sid/us-npi'
MBI = 'http://hl7.org/fhir/sid/us-mbi'
CUR = BB + 'codesystem/identifier-currency'
TYPES = ['CARRIER', 'DME', 'HHA', 'HOSPICE', 'INPATIENT', 'OUTPATIENT', 'PDE', 'SNF']

# column kinds -> (FHIR type, ansi/type tag)
KINDS = {
    'string': ('string', None),
    'code': ('string', None),
    'money': ('decimal', 'DECIMAL(15,2)'),
    'quantity': ('decimal', 'DECIMAL(18,6)'),
    'date': ('date', 'DATE'),
    'instant': ('instant', 'TIMESTAMP'),
    'integer': ('integer', 'INTEGER'),
    'boolean': ('boolean', 'BOOLEAN'),
}


def col(name, kind, desc, stu3, r4=None):
    return dict(name=name, kind=kind, desc=desc, stu3=stu3, r4=stu3 if r4 is None else r4)


def render(c, version):
    t, tag = KINDS[c['kind']]
    out = {'name': c['name'], 'path': c[version], 'type': t, 'description': c['desc']}
    if tag:
        out['tag'] = [{'name': 'ansi/type', 'value': tag}]
    return out


def ext(name):
    return "extension('%s%s')" % (V, name)


def adj(*names):
    cond = ' or '.join("code = '%s%s'" % (V, n) for n in names)
    return "adjudication.where(category.coding.where(%s).exists()).amount.value.first()" % cond


def info(field, varname):
    """code of a supporting-info entry whose code coding is the BFD variable."""
    return "%s.code.coding.where(system = '%s%s').code.first()" % (field, V, varname)


def infocat(field, varname):
    return "%s.where(category.coding.where(code = '%s%s').exists())" % (field, V, varname)


PATIENT_REF = "patient.getReferenceKey(Patient)"


def ct_lookup(link):
    """NPI of the care team member whose sequence is the line's first link (%context is the
    line: the forEach node, unchanged inside where())."""
    return "%%resource.careTeam.where(sequence = %%context.%s.first()).provider.identifier.value.first()" % link

# ---------------------------------------------------------------- eob header
claim_type = "type.coding.where(system = '%s' and (%s)).code.first()" % (
    EOBTYPE, ' or '.join("code = '%s'" % t for t in TYPES))
eob_cols = [
    col('eob_id', 'string', 'ExplanationOfBenefit.id, "{type}-{claim id}" (e.g. carrier-9991831999).', 'id'),
    col('claim_id', 'code', 'BFD claim id: identifier clm_id (pde_id for Part D events).',
        "identifier.where(system = '%sclm_id' or system = '%spde_id').value.first()" % (V, V)),
    col('claim_group_id', 'code', 'BFD claim group identifier.',
        "identifier.where(system = '%sidentifier/claim-group').value.first()" % BB),
    col('claim_type', 'code', 'Claim type from the eob-type coding (never meta.profile): CARRIER, DME, HHA, HOSPICE, INPATIENT, OUTPATIENT, PDE or SNF; null when the coding is missing or not one of these eight.',
        claim_type),
    col('claim_type_raw', 'code', 'The eob-type code exactly as sent (lets a check count claims whose type is unknown).',
        "type.coding.where(system = '%s').code.first()" % EOBTYPE),
    col('nch_claim_type_code', 'code', 'NCH claim type code (nch_clm_type_cd), e.g. 71 carrier, 60 inpatient; null for PDE.',
        "type.coding.where(system = '%snch_clm_type_cd').code.first()" % V),
    col('patient_id', 'string', 'Patient.id (BFD bene_id) the claim belongs to.', PATIENT_REF),
    col('status', 'code', 'EOB status (active, cancelled, ...).', 'status'),
    col('billable_period_start', 'date', 'Claim from date (billablePeriod.start).', 'billablePeriod.start'),
    col('billable_period_end', 'date', 'Claim through date (billablePeriod.end).', 'billablePeriod.end'),
    col('billing_npi', 'code', 'Billing provider NPI: institutional organization NPI, Part D pharmacy NPI, carrier billing NPI (R4 only).',
        "organization.identifier.where(system = '%s').value.first()" % NPI,
        "(provider.identifier.where(system = '%s' or system = '%scarr_clm_blg_npi_num').value | contained.where(resourceType = 'Organization').identifier.where(system = '%s').value).first()" % (NPI, V, NPI)),
    col('attending_npi', 'code', 'Attending physician NPI (institutional claims only): STU3 care team role "primary" that no line links to; R4 role "attending".',
        "iif(type.coding.where(system = '%s' and (code = 'HHA' or code = 'HOSPICE' or code = 'INPATIENT' or code = 'OUTPATIENT' or code = 'SNF')).exists(), careTeam.where(role.coding.code = 'primary' and (%%resource.item.careTeamLinkId contains sequence).not()).provider.identifier.value.first())" % EOBTYPE,
        "careTeam.where(role.coding.code = 'attending').provider.identifier.value.first()"),
    col('operating_npi', 'code', 'Operating physician NPI: STU3 care team role "assist", R4 role "operating".',
        "careTeam.where(role.coding.code = 'assist').provider.identifier.value.first()",
        "careTeam.where(role.coding.code = 'operating').provider.identifier.value.first()"),
    col('provider_ccn', 'code', 'Institutional provider CCN (prvdr_num).',
        "provider.identifier.where(system = '%sprvdr_num').value.first()" % V,
        "contained.where(resourceType = 'Organization').identifier.where(type.coding.code = 'PRN').value.first()"),
    col('facility_type_code', 'code', 'Facility type code (clm_fac_type_cd).',
        "facility.%s.valueCoding.code.first()" % ext('clm_fac_type_cd')),
    col('claim_frequency_code', 'code', 'Claim frequency code (clm_freq_cd), last digit of the type of bill.',
        info('information', 'clm_freq_cd'), info('supportingInfo', 'clm_freq_cd')),
    col('drg_code', 'code', 'DRG (clm_drg_cd): STU3 diagnosis entry with only packageCode, R4 supportingInfo.',
        "diagnosis.packageCode.coding.where(system = '%sclm_drg_cd').code.first()" % V,
        info('supportingInfo', 'clm_drg_cd')),
    col('discharge_status_code', 'code', 'Patient discharge status code (ptnt_dschrg_stus_cd).',
        info('information', 'ptnt_dschrg_stus_cd'), info('supportingInfo', 'ptnt_dschrg_stus_cd')),
    col('admission_date', 'date', 'Admission date: STU3 hospitalization.start, R4 supportingInfo admissionperiod.',
        'hospitalization.start',
        "supportingInfo.where(category.coding.code = 'admissionperiod').timingPeriod.start.first()"),
    col('discharge_date', 'date', 'Discharge date: STU3 hospitalization.end, R4 supportingInfo admissionperiod end.',
        'hospitalization.end',
        "supportingInfo.where(category.coding.code = 'admissionperiod').timingPeriod.end.first()"),
    col('admission_type_code', 'code', 'Inpatient admission type code (clm_ip_admsn_type_cd).',
        infocat('information', 'clm_ip_admsn_type_cd') + '.code.coding.code.first()',
        infocat('supportingInfo', 'clm_ip_admsn_type_cd') + '.code.coding.code.first()'),
    col('principal_diagnosis_code', 'code', 'ICD code of the diagnosis typed "principal", as sent (no dot).',
        "diagnosis.where(type.coding.code = 'principal').diagnosisCodeableConcept.coding.code.first()"),
    col('total_charge_amount', 'money', 'Claim total charge (clm_tot_chrg_amt): STU3 totalCost, R4 total[] keyed on the BFD variable URL.',
        'totalCost.value',
        "total.where(category.coding.where(code = '%sclm_tot_chrg_amt').exists()).amount.value.first()" % V),
    col('payment_amount', 'money', 'Claim payment amount (clm_pmt_amt, payment.amount).', 'payment.amount.value'),
    col('payment_date', 'date', 'Payment date (payment.date; Part D events).', 'payment.date'),
    col('coverage_reference', 'string', 'Coverage the claim is paid under (insurance.coverage.reference; STU3 single insurance, R4 array).',
        'insurance.coverage.reference.first()'),
    col('pde_days_supply', 'integer', 'Part D days supply (days_suply_num).',
        "item.quantity.%s.valueQuantity.value.first()" % ext('days_suply_num'),
        "supportingInfo.where(category.coding.code = 'dayssupply').valueQuantity.value.first()"),
    col('pde_fill_number', 'integer', 'Part D fill number (fill_num).',
        "item.quantity.%s.valueQuantity.value.first()" % ext('fill_num'),
        "supportingInfo.where(category.coding.code = 'refillnum').valueQuantity.value.first()"),
    col('pde_daw_code', 'code', 'Part D dispense-as-written code (daw_prod_slctn_cd).',
        info('information', 'daw_prod_slctn_cd'), info('supportingInfo', 'daw_prod_slctn_cd')),
    col('last_updated', 'instant', 'meta.lastUpdated.', 'meta.lastUpdated'),
]

# ---------------------------------------------------------------- eob lines
HCPCS = BB + 'codesystem/hcpcs'
NDC = 'http://hl7.org/fhir/sid/ndc'
line_cols = [
    col('line_number', 'integer', 'Line number (item.sequence).', 'sequence'),
    col('hcpcs_code', 'code', 'HCPCS/CPT code: STU3 item.service, R4 item.productOrService (system hcpcs).',
        "service.coding.where(system = '%s').code.first()" % HCPCS,
        "productOrService.coding.where(system = '%s').code.first()" % HCPCS),
    col('hcpcs_modifier_1', 'code', 'First HCPCS modifier (R4 also carries unit codings in modifier; only the hcpcs system counts).',
        "modifier.coding.where(system = '%s').code[0]" % HCPCS),
    col('hcpcs_modifier_2', 'code', 'Second HCPCS modifier.',
        "modifier.coding.where(system = '%s').code[1]" % HCPCS),
    col('ndc', 'code', 'National Drug Code: a coding on Part D events, an extension elsewhere (STU3 institutional: rev_cntr_ide_ndc_upc_num).',
        "(service.coding.where(system = '%s').code | extension('%s').valueCoding.code | service.%s.valueCoding.code).first()" % (NDC, NDC, ext('rev_cntr_ide_ndc_upc_num')),
        "(productOrService.coding.where(system = '%s').code | productOrService.extension('%s').valueCoding.code).first()" % (NDC, NDC)),
    col('revenue_center_code', 'code', 'Revenue center code (rev_cntr), institutional claims.',
        "revenue.coding.where(system = '%srev_cntr').code.first()" % V),
    col('place_of_service_code', 'code', 'Place of service (line_place_of_srvc_cd).',
        "locationCodeableConcept.coding.where(system = '%sline_place_of_srvc_cd').code.first()" % V),
    col('betos_code', 'code', 'BETOS code (betos_cd).', "%s.valueCoding.code.first()" % ext('betos_cd')),
    col('service_start', 'date', 'Service from date (servicedPeriod.start or servicedDate).',
        "(servicedPeriod.start | servicedDate).first()"),
    col('service_end', 'date', 'Service through date (servicedPeriod.end or servicedDate).',
        "(servicedPeriod.end | servicedDate).first()"),
    col('quantity', 'quantity', 'Units (item.quantity.value; R4 institutional lines: rev_cntr_unit_cnt).',
        'quantity.value',
        "iif(%s.exists(), %s.valueQuantity.value.first(), quantity.value)" % (ext('rev_cntr_unit_cnt'), ext('rev_cntr_unit_cnt'))),
    col('rendering_npi', 'code', 'NPI of the first care team member the line links to (STU3 careTeamLinkId, R4 careTeamSequence).',
        ct_lookup('careTeamLinkId'), ct_lookup('careTeamSequence')),
    col('care_team_sequence', 'integer', 'Sequence of the first care team member the line links to (STU3 careTeamLinkId, R4 careTeamSequence); joins eob_care_team.sequence.',
        'careTeamLinkId.first()', 'careTeamSequence.first()'),
    col('submitted_amount', 'money', 'Submitted charge: line_sbmtd_chrg_amt, rev_cntr_tot_chrg_amt, tot_rx_cst_amt (Part D).',
        adj('line_sbmtd_chrg_amt', 'rev_cntr_tot_chrg_amt', 'tot_rx_cst_amt')),
    col('allowed_amount', 'money', 'Allowed charge: line_alowd_chrg_amt.', adj('line_alowd_chrg_amt')),
    col('paid_amount', 'money', 'Medicare/plan payment: line_nch_pmt_amt, rev_cntr_pmt_amt_amt, cvrd_d_plan_pd_amt (Part D).',
        adj('line_nch_pmt_amt', 'rev_cntr_pmt_amt_amt', 'cvrd_d_plan_pd_amt')),
    col('provider_paid_amount', 'money', 'Paid to provider: line_prvdr_pmt_amt, rev_cntr_prvdr_pmt_amt.',
        adj('line_prvdr_pmt_amt', 'rev_cntr_prvdr_pmt_amt')),
    col('beneficiary_paid_amount', 'money', 'Paid to the beneficiary: line_bene_pmt_amt, rev_cntr_bene_pmt_amt.',
        adj('line_bene_pmt_amt', 'rev_cntr_bene_pmt_amt')),
    col('deductible_amount', 'money', 'Deductible: line_bene_ptb_ddctbl_amt, rev_cntr_cash_ddctbl_amt.',
        adj('line_bene_ptb_ddctbl_amt', 'rev_cntr_cash_ddctbl_amt')),
    col('coinsurance_amount', 'money', 'Coinsurance: line_coinsrnc_amt, rev_cntr_coinsrnc_wge_adjstd_c.',
        adj('line_coinsrnc_amt', 'rev_cntr_coinsrnc_wge_adjstd_c')),
    col('patient_pay_amount', 'money', 'Paid by the patient: rev_cntr_ptnt_rspnsblty_pmt, ptnt_pay_amt (Part D).',
        adj('rev_cntr_ptnt_rspnsblty_pmt', 'ptnt_pay_amt')),
    col('primary_payer_paid_amount', 'money', 'Primary payer (not Medicare) paid: line_bene_prmry_pyr_pd_amt, rev_cntr_1st_msp_pd_amt.',
        adj('line_bene_prmry_pyr_pd_amt', 'rev_cntr_1st_msp_pd_amt')),
    col('noncovered_amount', 'money', 'Non-covered charge: rev_cntr_ncvrd_chrg_amt.', adj('rev_cntr_ncvrd_chrg_amt')),
    col('rate_amount', 'money', 'Revenue center rate: rev_cntr_rate_amt.', adj('rev_cntr_rate_amt')),
]

# ---------------------------------------------------------------- diagnosis / procedure / care team
ICD9 = 'http://hl7.org/fhir/sid/icd-9-cm'
ICD10 = ['http://hl7.org/fhir/sid/icd-10', 'http://hl7.org/fhir/sid/icd-10-cm']


def icd_version(cc):
    return ("iif(%s.coding.where(system = '%s').exists(), '9', iif(%s.coding.where(%s).exists(), '10', {}))"
            % (cc, ICD9, cc, ' or '.join("system = '%s'" % s for s in ICD10 + ['http://www.cms.gov/Medicare/Coding/ICD10'])))


DX = 'diagnosisCodeableConcept.coding.code.first()'
diag_cols = [
    col('sequence', 'integer', 'diagnosis.sequence.', 'sequence'),
    col('code', 'code', 'ICD diagnosis code without the dot.', "iif(%s.contains('.'), iif(%s.substring(3, 1) = '.', %s.substring(0, 3) & %s.substring(4), %s.substring(0, 4) & %s.substring(5)), %s)" % ((DX,) * 7)),
    col('icd_version', 'code', '"9" or "10" from the coding system.', icd_version('diagnosisCodeableConcept')),
    col('diagnosis_type', 'code', 'Diagnosis type code as sent (STU3 diagnosis-type / R4 ex-diagnosistype or C4BBClaimDiagnosisType).',
        'type.coding.code.first()'),
    col('poa_indicator', 'code', 'Present-on-admission indicator (clm_poa_ind_swN / clm_e_poa_ind_swN).',
        "extension.where(url.startsWith('%sclm_poa_ind_sw') or url.startsWith('%sclm_e_poa_ind_sw')).valueCoding.code.first()" % (V, V)),
    col('is_principal', 'boolean', 'True when typed "principal".', "type.coding.where(code = 'principal').exists()"),
]
proc_cols = [
    col('sequence', 'integer', 'procedure.sequence.', 'sequence'),
    col('code', 'code', 'ICD procedure code (ICD-10-PCS or ICD-9-CM volume 3).', 'procedureCodeableConcept.coding.code.first()'),
    col('icd_version', 'code', '"9" or "10" from the coding system.', icd_version('procedureCodeableConcept')),
    col('procedure_date', 'date', 'procedure.date (date part).', 'date.toString().substring(0, 10)'),
]
ct_cols = [
    col('sequence', 'integer', 'careTeam.sequence.', 'sequence'),
    col('role', 'code', 'Care team role code as sent (STU3 claimcareteamrole: primary/assist/other; R4 C4BBClaimCareTeamRole: attending/operating/performing/...).',
        'role.coding.code.first()'),
    col('npi', 'code', 'Provider NPI (provider.identifier.value).', 'provider.identifier.value.first()'),
    col('specialty_code', 'code', 'Provider specialty (prvdr_spclty) when sent.',
        "qualification.coding.where(system = '%sprvdr_spclty').code.first()" % V),
]

parent_cols = [
    col('eob_id', 'string', 'ExplanationOfBenefit.id of the claim.', 'id'),
    col('patient_id', 'string', 'Patient.id (BFD bene_id).', PATIENT_REF),
    col('claim_type', 'code', 'Claim type from the eob-type coding (see eob.claim_type).', claim_type),
]

# ---------------------------------------------------------------- patient
mbi_current = ("identifier.where(system = '%s' and (extension('%s').valueCoding.code = 'current' or type.coding.extension('%s').valueCoding.code = 'current')).value.first()" % (MBI, CUR, CUR))
mbi_any = "identifier.where(system = '%s').value" % MBI
patient_cols = [
    col('patient_id', 'string', 'Patient.id (BFD bene_id).', 'id'),
    col('bene_id', 'code', 'bene_id identifier.', "identifier.where(system = '%sbene_id').value.first()" % V),
    col('mbi', 'code', 'Current MBI: the us-mbi identifier marked current (identifier-currency), else the only us-mbi identifier.',
        "iif(%s.exists(), %s, iif(%s.count() = 1, %s.first(), {}))" % (mbi_current.replace('.value.first()', ''), mbi_current, mbi_any, mbi_any)),
    col('given_name', 'string', 'First given name.', "name.first().given[0]"),
    col('middle_name', 'string', 'Second given name (middle name or initial).', "name.first().given[1]"),
    col('family_name', 'string', 'Family name.', 'name.first().family'),
    col('gender', 'code', 'Administrative gender.', 'gender'),
    col('birth_date', 'date', 'Birth date.', 'birthDate'),
    col('death_date', 'date', 'Date of death (deceasedDateTime, date part).', "deceasedDateTime.toString().substring(0, 10)"),
    col('state_code', 'code', 'Address state (BFD sends SSA state codes in some files, USPS in others; as sent).', 'address.state.first()'),
    col('zip_code', 'code', 'Address postal code (leading zeros kept).', 'address.postalCode.first()'),
    col('race_code', 'code', 'BFD race code (race extension).', "%s.valueCoding.code.first()" % ext('race')),
    col('last_updated', 'instant', 'meta.lastUpdated.', 'meta.lastUpdated'),
]

# ---------------------------------------------------------------- coverage
PART_STU3 = "iif(grouping.subPlan.startsWith('Part '), grouping.subPlan.substring(5), {})"
PLAN_R4 = "class.where(type.coding.code = 'plan').value.first()"
PART_R4 = "iif(%s.startsWith('Part '), %s.substring(5), {})" % (PLAN_R4, PLAN_R4)
coverage_cols = [
    col('coverage_id', 'string', 'Coverage.id ("part-a-{bene}" ...).', 'id'),
    col('patient_id', 'string', 'Patient.id (BFD bene_id).', "beneficiary.getReferenceKey(Patient)"),
    col('part', 'code', 'Medicare part: A, B, C or D (STU3 grouping.subPlan, R4 class[type=plan].value).', PART_STU3, PART_R4),
    col('status', 'code', 'Coverage status (active, cancelled).', 'status'),
    col('period_start', 'date', 'Coverage period start.', 'period.start'),
    col('period_end', 'date', 'Coverage period end.', 'period.end'),
    col('reference_year', 'integer', 'BFD reference year (rfrnc_yr).', "%s.valueDate.first().toString().substring(0, 4).toInteger()" % ext("rfrnc_yr")),
    col('medicare_status_code', 'code', 'Medicare status code (ms_cd).', "%s.valueCoding.code.first()" % ext('ms_cd')),
    col('orec_code', 'code', 'Original reason for entitlement (orec).', "%s.valueCoding.code.first()" % ext('orec')),
    col('crec_code', 'code', 'Current reason for entitlement (crec).', "%s.valueCoding.code.first()" % ext('crec')),
    col('esrd_indicator', 'code', 'ESRD indicator (esrd_ind).', "%s.valueCoding.code.first()" % ext('esrd_ind')),
    col('part_a_termination_code', 'code', 'Part A termination code (a_trm_cd).', "%s.valueCoding.code.first()" % ext('a_trm_cd')),
    col('part_b_termination_code', 'code', 'Part B termination code (b_trm_cd).', "%s.valueCoding.code.first()" % ext('b_trm_cd')),
    col('last_updated', 'instant', 'meta.lastUpdated.', 'meta.lastUpdated'),
]

month_fields = [
    ('dual_status_code', 'Medicare-Medicaid dual status (dual_MM).', 'dual_%02d'),
    ('buy_in_code', 'State buy-in indicator (buyinMM).', 'buyin%02d'),
    ('part_c_contract_id', 'Part C contract (ptc_cntrct_id_MM).', 'ptc_cntrct_id_%02d'),
    ('part_c_pbp_id', 'Part C plan benefit package (ptc_pbp_id_MM).', 'ptc_pbp_id_%02d'),
    ('part_c_plan_type_code', 'Part C plan type (ptc_plan_type_cd_MM).', 'ptc_plan_type_cd_%02d'),
    ('hmo_indicator', 'HMO indicator (hmo_ind_MM).', 'hmo_ind_%02d'),
    ('part_d_contract_id', 'Part D contract (ptdcntrctMM).', 'ptdcntrct%02d'),
    ('part_d_pbp_id', 'Part D plan benefit package (ptdpbpidMM).', 'ptdpbpid%02d'),
    ('part_d_segment_id', 'Part D segment (sgmtidMM).', 'sgmtid%02d'),
    ('cost_share_code', 'Part D cost-sharing group (cstshrMM).', 'cstshr%02d'),
    ('rds_indicator', 'Part D retiree drug subsidy indicator (rdsindMM).', 'rdsind%02d'),
]


def view(name, resource, desc, version, select):
    return {'resourceType': 'ViewDefinition', 'name': name, 'version': SCHEMA_VERSION, 'status': 'active', 'resource': resource,
            'description': desc, 'fhirVersion': ['3.0.2'] if version == 'stu3' else ['4.0.1'], 'select': select}


def cols(cs, version):
    return [render(c, version) for c in cs]


def build(version):
    views = {}
    it = 'information' if version == 'stu3' else 'supportingInfo'
    views['patient'] = view('patient', 'Patient', 'One row per beneficiary (Patient).', version,
                            [{'column': cols(patient_cols, version)}])
    views['coverage'] = view('coverage', 'Coverage', 'One row per Coverage (one per Medicare part A/B/C/D).', version,
                             [{'column': cols(coverage_cols, version)}])
    branches = []
    for m in range(1, 13):
        cs = [{'name': 'month', 'path': str(m), 'type': 'integer', 'description': 'Calendar month 1..12.',
               'tag': [{'name': 'ansi/type', 'value': 'INTEGER'}]}]
        for fname, fdesc, pat in month_fields:
            cs.append({'name': fname, 'path': "%s.valueCoding.code.first()" % ext(pat % m), 'type': 'string',
                       'description': fdesc})
        branches.append({'column': cs})
    head = [c for c in coverage_cols if c['name'] in ('coverage_id', 'patient_id', 'part', 'reference_year')]
    views['coverage_month'] = view('coverage_month', 'Coverage', 'One row per Coverage and calendar month of the reference year (12 per Coverage): monthly dual status, buy-in, Part C and Part D enrollment.', version,
                                   [{'column': cols(head, version)}, {'unionAll': branches}])
    views['eob'] = view('eob', 'ExplanationOfBenefit', 'One row per claim (ExplanationOfBenefit).', version,
                        [{'column': cols(eob_cols, version)}])
    amt_var = lambda field: "iif(%s.startsWith('%s'), %s.substring(%d), %s)" % (field, V, field, len(V), field)
    hdr_branches = [
        {'forEach': 'extension.where(valueMoney.exists())', 'column': [
            {'name': 'variable', 'path': amt_var('url'), 'type': 'string', 'description': 'BFD variable name (last segment of the https://bluebutton.cms.gov/resources/variables/ URL), e.g. nch_clm_prvdr_pmt_amt.'},
            {'name': 'amount', 'path': 'valueMoney.value', 'type': 'decimal', 'description': 'The amount, exact.', 'tag': [{'name': 'ansi/type', 'value': 'DECIMAL(15,2)'}]}]},
        {'forEach': 'benefitBalance.financial.where(usedMoney.exists())', 'column': [
            {'name': 'variable', 'path': amt_var("type.coding.where(system = '%scodesystem/benefit-balance').code.first()" % BB), 'type': 'string', 'description': 'BFD variable name (last segment of the https://bluebutton.cms.gov/resources/variables/ URL), e.g. nch_clm_prvdr_pmt_amt.'},
            {'name': 'amount', 'path': 'usedMoney.value', 'type': 'decimal', 'description': 'The amount, exact.', 'tag': [{'name': 'ansi/type', 'value': 'DECIMAL(15,2)'}]}]},
    ]
    views['eob_amount'] = view('eob_amount', 'ExplanationOfBenefit', 'One row per header money amount of a claim, keyed by BFD variable: STU3 money extensions, R4 money extensions and benefitBalance.financial usedMoney. Lossless companion of the eob columns (total charge and payment are eob columns).', version,
                               [{'column': cols(parent_cols, version)}, {'unionAll': hdr_branches}])
    ADJ_SYS = BB + 'codesystem/adjudication'
    views['eob_line_amount'] = view('eob_line_amount', 'ExplanationOfBenefit', 'One row per line adjudication amount (item.adjudication with an amount), keyed by BFD variable: every amount of every line, including those eob_line has no column for.', version,
                                    [{'column': cols(parent_cols, version)},
                                     {'forEach': 'item', 'column': [render(line_cols[0], version)],
                                      'select': [{'forEach': 'adjudication.where(amount.exists())', 'column': [
                                          {'name': 'variable', 'path': amt_var("category.coding.where(system = '%s').code.first()" % ADJ_SYS), 'type': 'string', 'description': 'BFD variable name the amount is keyed on (adjudication category coding of system https://bluebutton.cms.gov/resources/codesystem/adjudication, URL prefix removed).'},
                                          {'name': 'amount', 'path': 'amount.value', 'type': 'decimal', 'description': 'The amount, exact.', 'tag': [{'name': 'ansi/type', 'value': 'DECIMAL(15,2)'}]},
                                          {'name': 'category_code', 'path': "category.coding.where(system != '%s').code.first()" % ADJ_SYS, 'type': 'string', 'description': 'Other (CARIN) adjudication category code when sent (R4: submitted, eligible, paidtoprovider, ...); ambiguous on its own.'},
                                      ]}]}])
    views['eob_line'] = view('eob_line', 'ExplanationOfBenefit', 'One row per claim line (ExplanationOfBenefit.item). Amounts are keyed on BFD variable URLs, never on CARIN categories.', version,
                             [{'column': cols(parent_cols, version)}, {'forEach': 'item', 'column': cols(line_cols, version)}])
    views['eob_diagnosis'] = view('eob_diagnosis', 'ExplanationOfBenefit', 'One row per diagnosis code of a claim; STU3 DRG-only entries (packageCode, no diagnosisCodeableConcept) are excluded.', version,
                                  [{'column': cols(parent_cols, version)}, {'forEach': 'diagnosis.where(diagnosisCodeableConcept.exists())', 'column': cols(diag_cols, version)}])
    views['eob_procedure'] = view('eob_procedure', 'ExplanationOfBenefit', 'One row per procedure of a claim.', version,
                                  [{'column': cols(parent_cols, version)}, {'forEach': 'procedure', 'column': cols(proc_cols, version)}])
    views['eob_care_team'] = view('eob_care_team', 'ExplanationOfBenefit', 'One row per care team member of a claim.', version,
                                  [{'column': cols(parent_cols, version)}, {'forEach': 'careTeam', 'column': cols(ct_cols, version)}])
    err_cols = [
        {'name': 'operation_outcome_id', 'path': 'id', 'type': 'string', 'description': 'OperationOutcome.id when sent.'},
    ]
    issue_cols = [
        col('severity', 'code', 'issue.severity (error, warning, ...).', 'severity'),
        col('code', 'code', 'issue.code (exception, suppressed, ...).', 'code'),
        col('details_text', 'string', 'issue.details.text.', 'details.text'),
        col('patient_id', 'string', 'Patient id from issue.location ["Patient","id",<id>] (or R4 expression).',
            "iif(location.count() = 3 and location[0] = 'Patient', location[2], iif(expression.count() = 3 and expression[0] = 'Patient', expression[2], {}))"),
        col('location', 'string', 'issue.location (or R4 expression) joined with "/".',
            "iif(location.exists(), location.join('/'), iif(expression.exists(), expression.join('/'), {}))"),
        col('diagnostics', 'string', 'issue.diagnostics.', 'diagnostics'),
    ]
    views['export_error'] = view('export_error', 'OperationOutcome', 'One row per issue of each OperationOutcome in the export error files (DPC writes one issue per OperationOutcome).', version,
                                 [{'column': err_cols}, {'forEachOrNull': 'issue', 'column': cols(issue_cols, version)}])
    return views


for version in ('stu3', 'r4'):
    d = os.path.join(OUT, version)
    os.makedirs(d, exist_ok=True)
    for name, v in build(version).items():
        with open(os.path.join(d, name + '.json'), 'w') as f:
            json.dump(v, f, indent=2)
            f.write('\n')
print('ok')
