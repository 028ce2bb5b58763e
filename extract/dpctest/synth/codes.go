package synth

// Code tables. Small, realistic value sets; displays follow BFD's
// upper-case ICD/HCPCS descriptions. No entry contains '"' or '\\'.

var icd10CM = []codeDisp{
	{"E119", "TYPE 2 DIABETES MELLITUS WITHOUT COMPLICATIONS"}, {"I10", "ESSENTIAL (PRIMARY) HYPERTENSION"},
	{"E785", "HYPERLIPIDEMIA, UNSPECIFIED"}, {"I2510", "ATHSCL HEART DISEASE OF NATIVE CORONARY ARTERY W/O ANG PCTRS"},
	{"J449", "CHRONIC OBSTRUCTIVE PULMONARY DISEASE, UNSPECIFIED"}, {"N179", "ACUTE KIDNEY FAILURE, UNSPECIFIED"},
	{"I509", "HEART FAILURE, UNSPECIFIED"}, {"I4891", "UNSPECIFIED ATRIAL FIBRILLATION"}, {"N183", "CHRONIC KIDNEY DISEASE, STAGE 3 (MODERATE)"},
	{"M170", "BILATERAL PRIMARY OSTEOARTHRITIS OF KNEE"}, {"M545", "LOW BACK PAIN"}, {"J189", "PNEUMONIA, UNSPECIFIED ORGANISM"},
	{"A419", "SEPSIS, UNSPECIFIED ORGANISM"}, {"N390", "URINARY TRACT INFECTION, SITE NOT SPECIFIED"}, {"F0390", "UNSPECIFIED DEMENTIA WITHOUT BEHAVIORAL DISTURBANCE"},
	{"G309", "ALZHEIMER'S DISEASE, UNSPECIFIED"}, {"E039", "HYPOTHYROIDISM, UNSPECIFIED"}, {"K219", "GASTRO-ESOPHAGEAL REFLUX DISEASE WITHOUT ESOPHAGITIS"},
	{"Z7901", "LONG TERM (CURRENT) USE OF ANTICOAGULANTS"}, {"Z9181", "HISTORY OF FALLING"}, {"R0602", "SHORTNESS OF BREATH"},
	{"I639", "CEREBRAL INFARCTION, UNSPECIFIED"}, {"S72001A", "FRACTURE OF UNSP PART OF NECK OF RIGHT FEMUR, INIT"}, {"C61", "MALIGNANT NEOPLASM OF PROSTATE"},
	{"C3490", "MALIGNANT NEOPLASM OF UNSP PART OF UNSP BRONCHUS OR LUNG"}, {"D649", "ANEMIA, UNSPECIFIED"}, {"E1122", "TYPE 2 DIABETES MELLITUS W DIABETIC CHRONIC KIDNEY DISEASE"},
	{"H2513", "AGE-RELATED NUCLEAR CATARACT, BILATERAL"}, {"L89154", "PRESSURE ULCER OF SACRAL REGION, STAGE 4"}, {"U071", "COVID-19"},
}

var icd10External = []codeDisp{
	{"W19XXXA", "UNSPECIFIED FALL, INITIAL ENCOUNTER"}, {"W010XXA", "FALL SAME LEV FROM SLIP/TRIP W/O STRIKE AGAINST OBJ, INIT"}, {"V4352XA", "CAR DRIVER INJURED IN COLLISION W CAR IN TRAF, INIT"},
}

var icd10PCS = []codeDisp{
	{"0SRD0J9", "REPLACEMENT OF L KNEE JT WITH SYNTH SUB, CEMENT, OPEN APPROACH"}, {"0SR9019", "REPLACEMENT OF R HIP JT WITH METAL SYNTH SUB, CEMENT, OPEN APPROACH"},
	{"02703ZZ", "DILATION OF CORONARY ARTERY, ONE ARTERY, PERC APPROACH"}, {"5A1955Z", "RESPIRATORY VENTILATION, GREATER THAN 96 CONSECUTIVE HOURS"},
	{"0DJ08ZZ", "INSPECTION OF UPPER INTESTINAL TRACT, ENDO"}, {"30233N1", "TRANSFUSION OF NONAUT RED BLOOD CELLS INTO PERIPH VEIN, PERC"},
	{"BQ0HZZZ", "PLAIN RADIOGRAPHY OF LEFT ANKLE"}, {"3E0234Z", "INTRODUCTION OF SERUM, TOXOID AND VACCINE INTO MUSCLE, PERC"},
	{"0FT44ZZ", "RESECTION OF GALLBLADDER, PERC ENDO APPROACH"}, {"5A1D70Z", "PERFORMANCE OF URINARY FILTRATION, INTERMITTENT, LESS 6 HR/DAY"},
}

var drgCodes = []string{"470", "291", "871", "190", "683", "065", "392", "194", "603", "377", "189", "480"}

var hcpcsCarrier = []codeDisp{
	{"99213", "M1B"}, {"99214", "M1B"}, {"99215", "M1B"}, {"99232", "M2B"}, {"99233", "M2B"}, {"99285", "M3"},
	{"80053", "T1B"}, {"85025", "T1H"}, {"36415", "T1H"}, {"93000", "T2C"}, {"71046", "I1A"}, {"G0439", "M5D"},
	{"20610", "P5D"}, {"J1885", "O1E"}, {"90662", "O1G"}, {"97110", "P5E"}, {"92014", "M5D"}, {"66984", "P3D"},
}

var hcpcsDME = []codeDisp{{"E0601", "D1E"}, {"E1390", "D1C"}, {"A4253", "D1E"}, {"K0001", "D1D"}, {"L3908", "D1F"}, {"E0114", "D1E"}, {"A7030", "D1E"}}

var hcpcsInstitutional = []string{"99284", "80053", "85025", "36415", "71046", "93005", "J1885", "96374", "G0378", "97116", "G0299", "G0156"}

var modifiers = []string{"25", "59", "LT", "RT", "GP", "KX", "26", "TC", "NU", "RR"}

var betosDisplay = map[string]string{
	"M1B": "Office visits - established", "M2B": "Hospital visit - subsequent", "M3": "Emergency room visit", "T1B": "Lab tests - automated general profiles",
	"T1H": "Lab tests - other (non-Medicare fee schedule)", "T2C": "Other tests - EKG monitoring", "I1A": "Standard imaging - chest", "M5D": "Specialist - other",
	"P5D": "Ambulatory procedures - other", "O1E": "Other drugs", "O1G": "Immunizations/Vaccinations", "P5E": "Ambulatory procedures - other (physical therapy)",
	"P3D": "Major procedure - other", "D1E": "Medical/surgical supplies", "D1C": "Oxygen and supplies", "D1D": "Wheelchairs", "D1F": "Orthotic devices",
}

var ndcs = []codeDisp{
	{"00093505601", "ATORVASTATIN CALCIUM 20 MG TABLET"}, {"00378395105", "METFORMIN HCL 500 MG TABLET"}, {"68180051302", "LISINOPRIL 10 MG TABLET"},
	{"00071015523", "LIPITOR 10 MG TABLET"}, {"00002143380", "TRULICITY 1.5 MG/0.5 ML PEN"}, {"50090334700", "AMLODIPINE BESYLATE 5 MG TABLET"},
	{"00054418425", "FUROSEMIDE 40 MG TABLET"}, {"00597015230", "JARDIANCE 10 MG TABLET"}, {"00003089421", "ELIQUIS 5 MG TABLET"},
	{"65862020190", "LEVOTHYROXINE 50 MCG TABLET"}, {"16729002001", "OMEPRAZOLE DR 20 MG CAPSULE"}, {"00409488820", "HEPARIN SODIUM 5,000 UNIT/ML VIAL"},
}

var placeOfService = []codeDisp{
	{"11", "Office. Location, other than a hospital, skilled nursing facility (SNF), military treatment facility, community health center, State or local public health clinic, or intermediate care facility (ICF), where the health professional routinely provides health examinations, diagnosis, and treatment of illness or injury on an ambulatory basis."},
	{"11", ""}, {"11", ""},
	{"21", "Inpatient hospital. A facility, other than psychiatric, which primarily provides diagnostic, therapeutic (both surgical and nonsurgical), and rehabilitation services by, or under, the supervision of physicians to patients admitted for a variety of medical conditions."},
	{"22", "On Campus-Outpatient Hospital. A portion of a hospital's main campus which provides diagnostic, therapeutic (both surgical and nonsurgical), and rehabilitation services to sick or injured persons who do not require hospitalization or institutionalization."},
	{"23", "Emergency room - hospital. A portion of a hospital where emergency diagnosis and treatment of illness or injury is provided."},
	{"31", "Skilled nursing facility. A facility which primarily provides inpatient skilled nursing care and related services to patients who require medical, nursing, or rehabilitative services but does not provide the level of care or treatment available in a hospital."},
	{"81", "Independent laboratory. A laboratory certified to perform diagnostic and/or clinical tests independent of an institution or a physician's office."},
}

func posDisplay(code string) string {
	for _, p := range placeOfService {
		if p.code == code && p.disp != "" {
			return p.disp
		}
	}
	if code == "12" {
		return "Home. Location, other than a hospital or other facility, where the patient receives care in a private residence."
	}
	return ""
}

var specialties = []codeDisp{{"01", "General practice"}, {"08", "Family practice"}, {"11", "Internal medicine"}, {"06", "Cardiology"}, {"30", "Diagnostic radiology"}, {"69", "Clinical laboratory (billing independently)"}, {"41", "Optometrist"}, {"20", "Orthopedic surgery"}}

// revenue centers per institutional type
var (
	revInpatient  = []string{"0120", "0250", "0260", "0270", "0300", "0320", "0360", "0370", "0410", "0450", "0636", "0730"}
	revOutpatient = []string{"0250", "0300", "0301", "0320", "0450", "0510", "0636", "0730", "0762", "0940"}
	revSNF        = []string{"0022", "0191", "0250", "0420", "0430", "0440"}
	revHHA        = []string{"0023", "0551", "0421", "0431", "0441", "0571"}
	revHospice    = []string{"0651", "0651", "0652", "0655", "0656", "0657"}
)

var dischargeStatus = []codeDisp{
	{"01", "Discharged to home/self care (routine charge)."}, {"01", "Discharged to home/self care (routine charge)."},
	{"03", "Discharged/transferred to skilled nursing facility (SNF) with Medicare certification in anticipation of covered skilled care"},
	{"06", "Discharged/transferred to home care of organized home health service organization."},
	{"20", "Expired (did not recover - Christian Science patient)."}, {"30", "Still patient."},
	{"51", "Discharged/transferred to a Hospice \u2013 medical facility."},
}

var admissionTypes = []codeDisp{
	{"1", "Emergency - The patient required immediate medical intervention as a result of severe, life threatening, or potentially disabling conditions. Generally, the patient was admitted through the emergency room."},
	{"2", "Urgent - The patient required immediate attention for the care and treatment of a physical or mental disorder. Generally, the patient was admitted to the first available and suitable accommodation."},
	{"3", "Elective - The patient's condition permitted adequate time to schedule the availability of suitable accommodations."},
}

var dawCodes = []codeDisp{{"0", "No Product Selection Indicated (may also have missing values)"}, {"0", "No Product Selection Indicated (may also have missing values)"}, {"1", "Substitution Not Allowed by Prescriber"}, {"2", "Substitution Allowed - Patient Requested That Brand Product Be Dispensed"}}

var carrierNums = []string{"00510", "00511", "01112", "02102", "04112", "05102", "06102", "07102", "12202", "13102", "61026"}
