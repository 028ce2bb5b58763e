package synth

// amtDef describes one money variable: its BFD name, the display BFD gives
// it, and (for line adjudications) the R4 CARIN category that precedes the
// BFD coding in R4 output.
type amtDef struct {
	name, disp string
	r4sys      string // R4 adjudication category system ("" = no CARIN coding)
	r4code     string
	r4disp     string
}

const (
	carinAdj = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
	hl7Adj   = "http://terminology.hl7.org/CodeSystem/adjudication"
)

func d(name, disp, sys, code, cdisp string) amtDef { return amtDef{name, disp, sys, code, cdisp} }

var (
	aSubmitted = [3]string{hl7Adj, "submitted", "Submitted Amount"}
	aEligible  = [3]string{hl7Adj, "eligible", "Eligible Amount"}
	aBenefit   = [3]string{hl7Adj, "benefit", "Benefit Amount"}
	aDeduct    = [3]string{hl7Adj, "deductible", "Deductible"}
	aPaidPat   = [3]string{carinAdj, "paidtopatient", "Paid to patient"}
	aPaidProv  = [3]string{carinAdj, "paidtoprovider", "Paid to provider"}
	aPrior     = [3]string{carinAdj, "priorpayerpaid", "Prior payer paid"}
	aCoins     = [3]string{carinAdj, "coinsurance", "Co-insurance"}
	aNoncov    = [3]string{carinAdj, "noncovered", "Noncovered"}
	aByPat     = [3]string{carinAdj, "paidbypatient", "Paid by patient"}
	aDiscount  = [3]string{carinAdj, "discount", "Discount"}
	aDrugCost  = [3]string{carinAdj, "drugcost", "Drug Cost"}
)

func ad(name, disp string, c [3]string) amtDef { return d(name, disp, c[0], c[1], c[2]) }

// Line adjudication amounts (order = emission order, as in the BFD samples).
var (
	lineCarrier = []amtDef{
		ad("line_nch_pmt_amt", "Line NCH Medicare Payment Amount", aBenefit),
		ad("line_bene_pmt_amt", "Line Payment Amount to Beneficiary", aPaidPat),
		ad("line_prvdr_pmt_amt", "Line Provider Payment Amount", aPaidProv),
		ad("line_bene_ptb_ddctbl_amt", "Line Beneficiary Part B Deductible Amount", aDeduct),
		ad("line_bene_prmry_pyr_pd_amt", "Line Primary Payer (if not Medicare) Paid Amount", aPrior),
		ad("line_coinsrnc_amt", "Line Beneficiary Coinsurance Amount", aCoins),
		ad("line_sbmtd_chrg_amt", "Line Submitted Charge Amount", aSubmitted),
		ad("line_alowd_chrg_amt", "Line Allowed Charge Amount", aEligible),
	}
	lineDME = append([]amtDef{
		ad("line_prmry_alowd_chrg_amt", "Line Primary Payer Allowed Charge Amount", aEligible),
		ad("line_dme_prchs_price_amt", "Line DME Purchase Price Amount", aSubmitted),
	}, lineCarrier...)
	revRate   = ad("rev_cntr_rate_amt", "Revenue Center Rate Amount", aSubmitted)
	revTot    = ad("rev_cntr_tot_chrg_amt", "Revenue Center Total Charge Amount", aSubmitted)
	revNcvrd  = ad("rev_cntr_ncvrd_chrg_amt", "Revenue Center Non-Covered Charge Amount", aNoncov)
	revPmt    = ad("rev_cntr_pmt_amt_amt", "Revenue Center (Medicare) Payment Amount", aSubmitted)
	revPrvdr  = ad("rev_cntr_prvdr_pmt_amt", "Revenue Center (Medicare) Provider Payment Amount", aPaidProv)
	revBene   = ad("rev_cntr_bene_pmt_amt", "Revenue Center Payment Amount to Beneficiary", aPaidPat)
	lineInst  = []amtDef{revRate, revTot, revNcvrd}
	lineHHA   = []amtDef{revRate, revTot, revNcvrd, revPmt}
	lineHospc = []amtDef{revPrvdr, revBene, revRate, revTot, revNcvrd, revPmt}
	lineOutpt = []amtDef{
		ad("rev_cntr_blood_ddctbl_amt", "Revenue Center Blood Deductible Amount", aDeduct),
		ad("rev_cntr_cash_ddctbl_amt", "Revenue Center Cash Deductible Amount", aDeduct),
		ad("rev_cntr_coinsrnc_wge_adjstd_c", "Revenue Center Coinsurance/Wage Adjusted Coinsurance Amount", aCoins),
		ad("rev_cntr_rdcd_coinsrnc_amt", "Revenue Center Reduced Coinsurance Amount", aCoins),
		ad("rev_cntr_1st_msp_pd_amt", "Revenue Center 1st Medicare Secondary Payer (MSP) Paid Amount", aPrior),
		ad("rev_cntr_2nd_msp_pd_amt", "Revenue Center 2nd Medicare Secondary Payer (MSP) Paid Amount", aPrior),
		revPrvdr, revBene,
		ad("rev_cntr_ptnt_rspnsblty_pmt", "Revenue Center Patient Responsibility Payment Amount", aByPat),
		revPmt, revRate, revTot, revNcvrd,
	}
	linePDE = []amtDef{
		ad("cvrd_d_plan_pd_amt", "Amount paid by Part D plan for the PDE (drug is covered by Part D)", aBenefit),
		ad("gdc_blw_oopt_amt", "Gross Drug Cost Below Part D Out-of-Pocket Threshold (GDCB)", aCoins),
		ad("gdc_abv_oopt_amt", "Gross Drug Cost Above Part D Out-of-Pocket Threshold (GDCA)", aCoins),
		ad("ptnt_pay_amt", "Amount Paid by Patient", aByPat),
		ad("othr_troop_amt", "Other True Out-of-Pocket (TrOOP) Amount", aPrior),
		ad("lics_amt", "Amount paid for the PDE by Part D low income subsidy", aDiscount),
		ad("plro_amt", "Reduction in patient liability due to payments by other payers (PLRO)", aPrior),
		ad("tot_rx_cst_amt", "Total drug cost (Part D)", aDrugCost),
		ad("rptd_gap_dscnt_num", "Gap Discount Amount", aDiscount),
	}
)

// Header money variables: STU3 extensions (valueMoney); in R4 they are
// benefitBalance.financial usedMoney entries, except those in r4HeaderExt.
var (
	hdrCarrier = []amtDef{
		d("prpayamt", "NCH Primary Payer Claim Paid Amount", "", "", ""),
		d("carr_clm_cash_ddctbl_apld_amt", "Carrier Claim Cash Deductible Applied Amount (sum of all line-level deductible amounts)", "", "", ""),
		d("nch_clm_prvdr_pmt_amt", "NCH Claim Provider Payment Amount", "", "", ""),
		d("nch_clm_bene_pmt_amt", "NCH Claim Payment Amount to Beneficiary", "", "", ""),
		d("nch_carr_clm_sbmtd_chrg_amt", "NCH Carrier Claim Submitted Charge Amount (sum of all line-level submitted charges)", "", "", ""),
		d("nch_carr_clm_alowd_amt", "NCH Carrier Claim Allowed Charge Amount (sum of all line-level allowed charges)", "", "", ""),
	}
	hdrIPDDctbl = []amtDef{
		d("nch_bene_ip_ddctbl_amt", "NCH Beneficiary Inpatient (or other Part A) Deductible Amount", "", "", ""),
		d("nch_bene_pta_coinsrnc_lblty_amt", "NCH Beneficiary Part A Coinsurance Liability Amount", "", "", ""),
		d("nch_ip_ncvrd_chrg_amt", "NCH Inpatient(or other Part A) Non-covered Charge Amount", "", "", ""),
		d("nch_ip_tot_ddctn_amt", "NCH Inpatient (or other Part A) Total Deductible/Coinsurance Amount", "", "", ""),
		d("clm_pps_cptl_dsprprtnt_shr_amt", "Claim PPS Capital Disproportionate Share Amount", "", "", ""),
		d("clm_pps_cptl_excptn_amt", "Claim PPS Capital Exception Amount", "", "", ""),
		d("clm_pps_cptl_fsp_amt", "Claim PPS Capital Federal Specific Portion (FSP) Amount", "", "", ""),
		d("clm_pps_cptl_ime_amt", "Claim PPS Capital Indirect Medical Education (IME) Amount", "", "", ""),
		d("clm_pps_cptl_outlier_amt", "Claim PPS Capital Outlier Amount", "", "", ""),
		d("clm_pps_old_cptl_hld_hrmls_amt", "Claim PPS Old Capital Hold Harmless Amount", "", "", ""),
	}
	hdrInpatient = append(append([]amtDef{
		d("ime_op_clm_val_amt", "Operating Indirect Medical Education Amount", "", "", ""),
		d("dsh_op_clm_val_amt", "Operating Disproportionate Share Amount", "", "", ""),
		d("clm_pass_thru_per_diem_amt", "Claim Pass Thru Per Diem Amount", "", "", ""),
		d("nch_profnl_cmpnt_chrg_amt", "Professional Component Charge Amount", "", "", ""),
		d("clm_tot_pps_cptl_amt", "Claim Total PPS Capital Amount", "", "", ""),
		d("clm_uncompd_care_pmt_amt", "Claim Uncompensated Care Payment Amount", "", "", ""),
	}, hdrIPDDctbl...),
		d("nch_drg_outlier_aprvd_pmt_amt", "NCH DRG Outlier Approved Payment Amount", "", "", ""),
		d("nch_bene_blood_ddctbl_lblty_am", "NCH Beneficiary Blood Deductible Liability Amount", "", "", ""),
		d("prpayamt", "NCH Primary Payer Claim Paid Amount", "", "", ""))
	hdrSNF = append(append([]amtDef{}, hdrIPDDctbl...),
		d("nch_bene_blood_ddctbl_lblty_am", "NCH Beneficiary Blood Deductible Liability Amount", "", "", ""),
		d("prpayamt", "NCH Primary Payer Claim Paid Amount", "", "", ""))
	hdrOutpatient = []amtDef{
		d("nch_profnl_cmpnt_chrg_amt", "Professional Component Charge Amount", "", "", ""),
		d("nch_bene_ptb_ddctbl_amt", "NCH Beneficiary Part B Deductible Amount", "", "", ""),
		d("nch_bene_ptb_coinsrnc_amt", "NCH Beneficiary Part B Coinsurance Amount", "", "", ""),
		d("clm_op_prvdr_pmt_amt", "Claim Outpatient Provider Payment Amount", "", "", ""),
		d("clm_op_bene_pmt_amt", "Claim Outpatient Payment Amount to Beneficiary", "", "", ""),
		d("nch_bene_blood_ddctbl_lblty_am", "NCH Beneficiary Blood Deductible Liability Amount", "", "", ""),
		d("prpayamt", "NCH Primary Payer Claim Paid Amount", "", "", ""),
	}
	hdrPrpay = []amtDef{d("prpayamt", "NCH Primary Payer Claim Paid Amount", "", "", "")}
)

// r4HeaderExt are header amounts that stay extensions in R4 (BFD v2 inpatient).
func r4HeaderExt(name string) bool {
	return name == "ime_op_clm_val_amt" || name == "dsh_op_clm_val_amt" || name == "clm_uncompd_care_pmt_amt"
}
