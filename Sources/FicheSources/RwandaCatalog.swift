// Reference data for the synthetic Rwandan clinic network: provinces and districts,
// facilities, the age pyramid, the procedure catalog (CPT), the diagnosis catalog
// (WHO ICD-10) with age-, sex- and season-dependent frequencies, and the sentences
// the report templates are made of. Plain data, reviewed by eye; the generator
// compiles it into lookup tables once.

/// The kinds of facility in the Rwandan public health pyramid.
public enum FacilityType: String, Sendable, CaseIterable {
    case referralHospital = "referral hospital"
    case districtHospital = "district hospital"
    case healthCentre = "health centre"

    var isHospital: Bool { self != .healthCentre }
}

/// Imaging and laboratory modalities of the synthetic procedure catalog.
public enum Modality: String, Sendable, CaseIterable {
    case xr = "XR", ct = "CT", mr = "MR", us = "US", lab = "LAB"

    var isImaging: Bool { self != .lab }
}

public enum RwandaCatalog {
    // MARK: Geography

    /// The five provinces and their thirty districts.
    public static let provinces: [(province: String, districts: [String])] = [
        ("Kigali City", ["Gasabo", "Kicukiro", "Nyarugenge"]),
        ("Northern", ["Burera", "Gakenke", "Gicumbi", "Musanze", "Rulindo"]),
        ("Southern", ["Gisagara", "Huye", "Kamonyi", "Muhanga", "Nyamagabe", "Nyanza", "Nyaruguru", "Ruhango"]),
        ("Eastern", ["Bugesera", "Gatsibo", "Kayonza", "Kirehe", "Ngoma", "Nyagatare", "Rwamagana"]),
        ("Western", ["Karongi", "Ngororero", "Nyabihu", "Nyamasheke", "Rubavu", "Rusizi", "Rutsiro"]),
    ]

    /// The province of a district (nil for an unknown district).
    public static func province(ofDistrict district: String) -> String? {
        provinces.first { $0.districts.contains(district) }?.province
    }

    public struct Facility: Sendable, Equatable {
        public let name: String
        public let type: FacilityType
        public let district: String
    }

    /// Real facilities, ordered so that any prefix is a plausible network: the default
    /// ten mix referral hospitals, district hospitals and health centres across provinces.
    public static let facilities: [Facility] = [
        Facility(name: "CHUK", type: .referralHospital, district: "Nyarugenge"),
        Facility(name: "Kibagabaga District Hospital", type: .districtHospital, district: "Gasabo"),
        Facility(name: "Remera Health Centre", type: .healthCentre, district: "Gasabo"),
        Facility(name: "CHUB", type: .referralHospital, district: "Huye"),
        Facility(name: "Ruhengeri Referral Hospital", type: .referralHospital, district: "Musanze"),
        Facility(name: "Rwamagana District Hospital", type: .districtHospital, district: "Rwamagana"),
        Facility(name: "Kicukiro Health Centre", type: .healthCentre, district: "Kicukiro"),
        Facility(name: "Gisenyi District Hospital", type: .districtHospital, district: "Rubavu"),
        Facility(name: "Muhima District Hospital", type: .districtHospital, district: "Nyarugenge"),
        Facility(name: "Matyazo Health Centre", type: .healthCentre, district: "Huye"),
        Facility(name: "King Faisal Hospital", type: .referralHospital, district: "Gasabo"),
        Facility(name: "Kimironko Health Centre", type: .healthCentre, district: "Gasabo"),
        Facility(name: "Muhoza Health Centre", type: .healthCentre, district: "Musanze"),
        Facility(name: "Kibungo Referral Hospital", type: .referralHospital, district: "Ngoma"),
        Facility(name: "Masaka District Hospital", type: .districtHospital, district: "Kicukiro"),
        Facility(name: "Biryogo Health Centre", type: .healthCentre, district: "Nyarugenge"),
        Facility(name: "Kabgayi District Hospital", type: .districtHospital, district: "Muhanga"),
        Facility(name: "Gikondo Health Centre", type: .healthCentre, district: "Kicukiro"),
        Facility(name: "Byumba District Hospital", type: .districtHospital, district: "Gicumbi"),
        Facility(name: "Kinyinya Health Centre", type: .healthCentre, district: "Gasabo"),
        Facility(name: "Nyagatare District Hospital", type: .districtHospital, district: "Nyagatare"),
        Facility(name: "Gisenyi Health Centre", type: .healthCentre, district: "Rubavu"),
        Facility(name: "Rwanda Military Hospital", type: .referralHospital, district: "Kicukiro"),
        Facility(name: "Nyamata District Hospital", type: .districtHospital, district: "Bugesera"),
        Facility(name: "Kimisagara Health Centre", type: .healthCentre, district: "Nyarugenge"),
        Facility(name: "Butaro District Hospital", type: .districtHospital, district: "Burera"),
        Facility(name: "Nyanza District Hospital", type: .districtHospital, district: "Nyanza"),
        Facility(name: "Kibuye Referral Hospital", type: .referralHospital, district: "Karongi"),
        Facility(name: "Gihundwe District Hospital", type: .districtHospital, district: "Rusizi"),
        Facility(name: "Rwinkwavu District Hospital", type: .districtHospital, district: "Kayonza"),
        Facility(name: "Kiziguro District Hospital", type: .districtHospital, district: "Gatsibo"),
        Facility(name: "Kirehe District Hospital", type: .districtHospital, district: "Kirehe"),
        Facility(name: "Kigeme District Hospital", type: .districtHospital, district: "Nyamagabe"),
        Facility(name: "Nemba District Hospital", type: .districtHospital, district: "Gakenke"),
        Facility(name: "Rutongo District Hospital", type: .districtHospital, district: "Rulindo"),
        Facility(name: "Shyira District Hospital", type: .districtHospital, district: "Nyabihu"),
        Facility(name: "Muhororo District Hospital", type: .districtHospital, district: "Ngororero"),
        Facility(name: "Kibogora District Hospital", type: .districtHospital, district: "Nyamasheke"),
        Facility(name: "Murunda District Hospital", type: .districtHospital, district: "Rutsiro"),
        Facility(name: "Gitwe District Hospital", type: .districtHospital, district: "Ruhango"),
        Facility(name: "Remera-Rukoma District Hospital", type: .districtHospital, district: "Kamonyi"),
        Facility(name: "Kibilizi District Hospital", type: .districtHospital, district: "Gisagara"),
        Facility(name: "Munini District Hospital", type: .districtHospital, district: "Nyaruguru"),
    ]

    /// Patients choose a home facility with these weights (health centres carry most
    /// first-line care; referral hospitals draw from a wide catchment).
    static func homeWeight(_ type: FacilityType) -> Double {
        switch type {
        case .referralHospital: 2.0
        case .districtHospital: 2.5
        case .healthCentre: 4.0
        }
    }

    // MARK: Population

    /// Rwanda's age pyramid in bands of years [lo, hi) with population shares (percent):
    /// a young population, median age about twenty.
    static let ageBands: [(lo: Int, hi: Int, share: Double)] = [
        (0, 5, 13.5), (5, 10, 13.0), (10, 15, 12.0), (15, 20, 10.5), (20, 25, 9.5),
        (25, 30, 8.5), (30, 35, 7.5), (35, 40, 6.5), (40, 45, 5.0), (45, 50, 4.0),
        (50, 55, 3.3), (55, 60, 2.5), (60, 65, 1.8), (65, 70, 1.2), (70, 75, 0.8),
        (75, 80, 0.5), (80, 95, 0.4),
    ]

    /// Share of women among patients.
    static let femaleShare = 0.515

    // MARK: Procedures (CPT)

    /// Body region of an imaging procedure (decides which findings fit), or the specimen of a test.
    enum Region: Sendable {
        case chest, abdomen, head, spine, limb, obstetric, pelvis, heart
        case blood, urine, stool, sputum, cervix, tissue
    }

    struct Procedure: Sendable {
        let code: String
        let name: String
        let modality: Modality
        let region: Region
        /// Weight when ordered for no particular diagnosis.
        let weight: Double
        /// The report sentence when the result is unremarkable.
        let normal: String
    }

    static let procedures: [Procedure] = [
        // Plain radiography
        Procedure(code: "71046", name: "Radiologic examination, chest; 2 views", modality: .xr, region: .chest, weight: 6,
                  normal: "The lungs are clear. Heart size is normal. No pleural effusion or pneumothorax."),
        Procedure(code: "71045", name: "Radiologic examination, chest; single view", modality: .xr, region: .chest, weight: 3,
                  normal: "No focal consolidation. Cardiomediastinal silhouette within normal limits."),
        Procedure(code: "73110", name: "Radiologic examination, wrist; complete", modality: .xr, region: .limb, weight: 0.8,
                  normal: "No fracture or dislocation. Joint spaces are preserved."),
        Procedure(code: "73590", name: "Radiologic examination; tibia and fibula, 2 views", modality: .xr, region: .limb, weight: 0.6,
                  normal: "No acute fracture. Soft tissues unremarkable."),
        Procedure(code: "73610", name: "Radiologic examination, ankle; complete", modality: .xr, region: .limb, weight: 0.6,
                  normal: "Ankle mortise is congruent. No fracture identified."),
        Procedure(code: "73560", name: "Radiologic examination, knee; 1 or 2 views", modality: .xr, region: .limb, weight: 0.6,
                  normal: "No fracture or effusion. Joint spaces are maintained."),
        Procedure(code: "72100", name: "Radiologic examination, spine, lumbosacral; 2 or 3 views", modality: .xr, region: .spine, weight: 0.6,
                  normal: "Normal vertebral alignment and body heights. Disc spaces preserved."),
        Procedure(code: "74018", name: "Radiologic examination, abdomen; 1 view", modality: .xr, region: .abdomen, weight: 0.5,
                  normal: "Non-obstructive bowel gas pattern. No free intraperitoneal air."),
        // Computed tomography
        Procedure(code: "70450", name: "Computed tomography, head or brain; without contrast material", modality: .ct, region: .head, weight: 0.5,
                  normal: "No intracranial haemorrhage, mass effect or midline shift. Ventricles are normal in size."),
        Procedure(code: "74177", name: "Computed tomography, abdomen and pelvis; with contrast material", modality: .ct, region: .abdomen, weight: 0.4,
                  normal: "Solid abdominal organs are unremarkable. No free fluid or lymphadenopathy."),
        Procedure(code: "71250", name: "Computed tomography, thorax; without contrast material", modality: .ct, region: .chest, weight: 0.2,
                  normal: "No pulmonary nodules or consolidation. Mediastinum is unremarkable."),
        Procedure(code: "72131", name: "Computed tomography, lumbar spine; without contrast material", modality: .ct, region: .spine, weight: 0.1,
                  normal: "No fracture or significant canal stenosis."),
        // Magnetic resonance
        Procedure(code: "70551", name: "Magnetic resonance imaging, brain; without contrast material", modality: .mr, region: .head, weight: 0.15,
                  normal: "Normal brain parenchymal signal. No restricted diffusion or mass lesion."),
        Procedure(code: "72148", name: "Magnetic resonance imaging, spinal canal, lumbar; without contrast material", modality: .mr, region: .spine, weight: 0.1,
                  normal: "No disc herniation or nerve root compression."),
        Procedure(code: "73721", name: "Magnetic resonance imaging, any joint of lower extremity; without contrast material", modality: .mr, region: .limb, weight: 0.05,
                  normal: "Menisci and ligaments are intact. No joint effusion."),
        // Ultrasound
        Procedure(code: "76805", name: "Ultrasound, pregnant uterus, after first trimester, transabdominal", modality: .us, region: .obstetric, weight: 1.0,
                  normal: "Single live intrauterine fetus. Biometry consistent with dates. Normal amniotic fluid volume."),
        Procedure(code: "76801", name: "Ultrasound, pregnant uterus, first trimester, transabdominal", modality: .us, region: .obstetric, weight: 0.5,
                  normal: "Single intrauterine gestational sac with a live embryo. Cardiac activity present."),
        Procedure(code: "76700", name: "Ultrasound, abdominal, complete", modality: .us, region: .abdomen, weight: 1.0,
                  normal: "Liver, gallbladder, pancreas, spleen and kidneys are sonographically normal."),
        Procedure(code: "76856", name: "Ultrasound, pelvic (nonobstetric), complete", modality: .us, region: .pelvis, weight: 0.4,
                  normal: "Uterus and adnexa are unremarkable. No free fluid in the pouch of Douglas."),
        Procedure(code: "76770", name: "Ultrasound, retroperitoneal (renal), complete", modality: .us, region: .abdomen, weight: 0.3,
                  normal: "Both kidneys are normal in size and echotexture. No hydronephrosis."),
        Procedure(code: "93306", name: "Echocardiography, transthoracic, complete", modality: .us, region: .heart, weight: 0.2,
                  normal: "Normal left ventricular size and systolic function. No significant valvular disease."),
        // Laboratory and pathology
        Procedure(code: "85025", name: "Blood count; complete (CBC), automated, with differential", modality: .lab, region: .blood, weight: 14,
                  normal: "Haemoglobin, white cell count and platelets within reference ranges."),
        Procedure(code: "87207", name: "Smear, special stain for parasites (malaria)", modality: .lab, region: .blood, weight: 10,
                  normal: "No malaria parasites seen on thick and thin films."),
        Procedure(code: "86703", name: "HIV-1 and HIV-2 antibodies, single result", modality: .lab, region: .blood, weight: 4,
                  normal: "HIV antibody test non-reactive."),
        Procedure(code: "86361", name: "T cells; absolute CD4 count", modality: .lab, region: .blood, weight: 0.5,
                  normal: "CD4 count 780 cells/uL."),
        Procedure(code: "87536", name: "HIV-1 quantification (viral load)", modality: .lab, region: .blood, weight: 0.5,
                  normal: "HIV-1 RNA not detected."),
        Procedure(code: "83036", name: "Hemoglobin; glycosylated (A1C)", modality: .lab, region: .blood, weight: 0.8,
                  normal: "HbA1c 5.4%."),
        Procedure(code: "82947", name: "Glucose; quantitative, blood", modality: .lab, region: .blood, weight: 2.5,
                  normal: "Random blood glucose 5.6 mmol/L."),
        Procedure(code: "80048", name: "Basic metabolic panel", modality: .lab, region: .blood, weight: 1.5,
                  normal: "Sodium, potassium, urea and creatinine within reference ranges."),
        Procedure(code: "82565", name: "Creatinine; blood", modality: .lab, region: .blood, weight: 1.5,
                  normal: "Serum creatinine 74 umol/L."),
        Procedure(code: "81001", name: "Urinalysis, automated, with microscopy", modality: .lab, region: .urine, weight: 4,
                  normal: "Urinalysis unremarkable. No leukocytes, nitrites or blood."),
        Procedure(code: "87177", name: "Ova and parasites, direct smears, concentration and identification", modality: .lab, region: .stool, weight: 3,
                  normal: "No ova, cysts or parasites seen."),
        Procedure(code: "87045", name: "Culture, bacterial; stool", modality: .lab, region: .stool, weight: 0.5,
                  normal: "No Salmonella, Shigella or Campylobacter isolated."),
        Procedure(code: "87206", name: "Smear, fluorescent and/or acid fast stain", modality: .lab, region: .sputum, weight: 0.8,
                  normal: "No acid-fast bacilli seen."),
        Procedure(code: "87116", name: "Culture, tubercle or other acid-fast bacilli", modality: .lab, region: .sputum, weight: 0.3,
                  normal: "No mycobacterial growth after eight weeks."),
        Procedure(code: "84702", name: "Gonadotropin, chorionic (hCG); quantitative", modality: .lab, region: .blood, weight: 1.0,
                  normal: "Serum hCG below 5 IU/L."),
        Procedure(code: "86592", name: "Syphilis test, non-treponemal antibody; qualitative (RPR)", modality: .lab, region: .blood, weight: 1.0,
                  normal: "RPR non-reactive."),
        Procedure(code: "87040", name: "Culture, bacterial; blood, aerobic", modality: .lab, region: .blood, weight: 0.6,
                  normal: "No growth after five days of incubation."),
        Procedure(code: "88142", name: "Cytopathology, cervical or vaginal, thin layer preparation", modality: .lab, region: .cervix, weight: 0.4,
                  normal: "Negative for intraepithelial lesion or malignancy."),
        Procedure(code: "88305", name: "Level IV surgical pathology, gross and microscopic examination", modality: .lab, region: .tissue, weight: 0.2,
                  normal: "Benign tissue with no evidence of malignancy."),
    ]

    // MARK: Diagnoses (WHO ICD-10)

    enum Sex: Sendable { case any, female, male }

    /// A typical test or image for a diagnosis, with what its report says when the diagnosis shows.
    struct Workup: Sendable {
        let code: String
        let finding: String
    }

    struct Diagnosis: Sendable {
        let code: String
        let description: String
        let category: String
        /// Relative weight among visits at ages 0-4, 5-14, 15-49, 50+.
        let weights: (Double, Double, Double, Double)
        let sex: Sex
        /// Multiplier during the rainy seasons (March-May, September-December).
        let rainy: Double
        /// Chance the visit is an admission, and an emergency.
        let inpatient: Double
        let emergency: Double
        let workup: [Workup]
    }

    static let infectious = "Certain infectious and parasitic diseases"
    static let respiratory = "Diseases of the respiratory system"
    static let pregnancy = "Pregnancy, childbirth and the puerperium"
    static let circulatory = "Diseases of the circulatory system"
    static let endocrine = "Endocrine, nutritional and metabolic diseases"
    static let blood = "Diseases of the blood and blood-forming organs"
    static let digestive = "Diseases of the digestive system"
    static let genitourinary = "Diseases of the genitourinary system"
    static let injury = "Injury, poisoning and certain other consequences of external causes"
    static let mental = "Mental and behavioural disorders"
    static let nervous = "Diseases of the nervous system"
    static let musculoskeletal = "Diseases of the musculoskeletal system and connective tissue"
    static let neoplasms = "Neoplasms"
    static let eye = "Diseases of the eye and adnexa"
    static let symptoms = "Symptoms, signs and abnormal clinical and laboratory findings"
    static let factors = "Factors influencing health status and contact with health services"

    static let diagnoses: [Diagnosis] = [
        Diagnosis(code: "B54", description: "Unspecified malaria", category: infectious,
                  weights: (30, 25, 12, 6), sex: .any, rainy: 1.9, inpatient: 0.08, emergency: 0.05,
                  workup: [Workup(code: "87207", finding: "Plasmodium falciparum trophozoites seen, parasitaemia 2+."),
                           Workup(code: "85025", finding: "Haemoglobin 9.8 g/dL with thrombocytopenia (platelets 96 x10^9/L).")]),
        Diagnosis(code: "B50.9", description: "Plasmodium falciparum malaria, unspecified", category: infectious,
                  weights: (8, 6, 3, 2), sex: .any, rainy: 1.9, inpatient: 0.25, emergency: 0.10,
                  workup: [Workup(code: "87207", finding: "Plasmodium falciparum ring forms seen, parasitaemia 3+."),
                           Workup(code: "85025", finding: "Haemoglobin 7.9 g/dL. Platelets 68 x10^9/L."),
                           Workup(code: "82947", finding: "Blood glucose 3.1 mmol/L, low.")]),
        Diagnosis(code: "A09", description: "Diarrhoea and gastroenteritis of presumed infectious origin", category: infectious,
                  weights: (22, 8, 5, 4), sex: .any, rainy: 1.2, inpatient: 0.08, emergency: 0.06,
                  workup: [Workup(code: "87177", finding: "Cysts of Entamoeba histolytica seen."),
                           Workup(code: "87045", finding: "Shigella species isolated, sensitive to ciprofloxacin."),
                           Workup(code: "80048", finding: "Sodium 131 mmol/L and urea raised, consistent with dehydration.")]),
        Diagnosis(code: "A01.0", description: "Typhoid fever", category: infectious,
                  weights: (1, 3, 3, 1), sex: .any, rainy: 1.1, inpatient: 0.3, emergency: 0.05,
                  workup: [Workup(code: "87040", finding: "Salmonella Typhi isolated from blood culture."),
                           Workup(code: "85025", finding: "Relative leukopenia with white cell count 3.2 x10^9/L.")]),
        Diagnosis(code: "B20", description: "HIV disease resulting in infectious and parasitic diseases", category: infectious,
                  weights: (0.5, 0.5, 5, 3), sex: .any, rainy: 1.0, inpatient: 0.05, emergency: 0.02,
                  workup: [Workup(code: "86703", finding: "HIV-1 antibody reactive, confirmed on a second assay."),
                           Workup(code: "86361", finding: "CD4 count 212 cells/uL."),
                           Workup(code: "87536", finding: "HIV-1 RNA 18,400 copies/mL."),
                           Workup(code: "71046", finding: "Bilateral reticulonodular opacities; opportunistic infection to be excluded.")]),
        Diagnosis(code: "A15.0", description: "Tuberculosis of lung, confirmed by sputum microscopy", category: infectious,
                  weights: (0.3, 0.5, 2, 2), sex: .any, rainy: 1.0, inpatient: 0.15, emergency: 0.02,
                  workup: [Workup(code: "71046", finding: "Cavitating consolidation in the right upper lobe with hilar lymphadenopathy."),
                           Workup(code: "87206", finding: "Acid-fast bacilli seen, 2+."),
                           Workup(code: "87116", finding: "Mycobacterium tuberculosis complex isolated."),
                           Workup(code: "71250", finding: "Upper lobe cavities with tree-in-bud nodularity.")]),
        Diagnosis(code: "B82.9", description: "Intestinal parasitism, unspecified", category: infectious,
                  weights: (6, 8, 2, 1), sex: .any, rainy: 1.1, inpatient: 0.01, emergency: 0.01,
                  workup: [Workup(code: "87177", finding: "Ascaris lumbricoides ova seen."),
                           Workup(code: "85025", finding: "Eosinophilia, 14% of white cells.")]),
        Diagnosis(code: "J18.9", description: "Pneumonia, unspecified organism", category: respiratory,
                  weights: (15, 6, 3, 5), sex: .any, rainy: 1.5, inpatient: 0.3, emergency: 0.12,
                  workup: [Workup(code: "71046", finding: "Right lower lobe consolidation with air bronchograms. Small right pleural effusion."),
                           Workup(code: "71045", finding: "Patchy airspace opacification in the left lower zone."),
                           Workup(code: "85025", finding: "Neutrophilic leukocytosis, white cell count 16.8 x10^9/L."),
                           Workup(code: "87040", finding: "Streptococcus pneumoniae isolated.")]),
        Diagnosis(code: "J06.9", description: "Acute upper respiratory infection, unspecified", category: respiratory,
                  weights: (20, 14, 8, 5), sex: .any, rainy: 1.4, inpatient: 0.01, emergency: 0.02,
                  workup: [Workup(code: "85025", finding: "Mild lymphocytosis."),
                           Workup(code: "71045", finding: "Mild peribronchial thickening without consolidation.")]),
        Diagnosis(code: "J45.9", description: "Asthma, unspecified", category: respiratory,
                  weights: (1, 2, 2, 2), sex: .any, rainy: 1.3, inpatient: 0.08, emergency: 0.15,
                  workup: [Workup(code: "71046", finding: "Hyperinflated lungs with bronchial wall thickening. No consolidation.")]),
        Diagnosis(code: "J44.9", description: "Chronic obstructive pulmonary disease, unspecified", category: respiratory,
                  weights: (0, 0, 0.5, 3), sex: .any, rainy: 1.3, inpatient: 0.15, emergency: 0.1,
                  workup: [Workup(code: "71046", finding: "Hyperexpanded lungs with flattened hemidiaphragms and bullous change."),
                           Workup(code: "71250", finding: "Centrilobular emphysema, upper lobe predominant.")]),
        Diagnosis(code: "Z34.9", description: "Supervision of normal pregnancy, unspecified", category: factors,
                  weights: (0, 0.2, 14, 0), sex: .female, rainy: 1.0, inpatient: 0.0, emergency: 0.0,
                  workup: [Workup(code: "76805", finding: "Single live intrauterine fetus, cephalic presentation. Biometry consistent with 28 weeks."),
                           Workup(code: "76801", finding: "Single live intrauterine pregnancy, crown-rump length consistent with 11 weeks."),
                           Workup(code: "86592", finding: "RPR reactive at 1:8; treponemal confirmation requested."),
                           Workup(code: "86703", finding: "HIV antibody test non-reactive."),
                           Workup(code: "85025", finding: "Haemoglobin 10.6 g/dL, mild anaemia of pregnancy.")]),
        Diagnosis(code: "O80", description: "Single spontaneous delivery", category: pregnancy,
                  weights: (0, 0.1, 6, 0), sex: .female, rainy: 1.0, inpatient: 0.95, emergency: 0.03,
                  workup: [Workup(code: "76805", finding: "Single live fetus, cephalic presentation, at term. Placenta fundal."),
                           Workup(code: "85025", finding: "Haemoglobin 11.2 g/dL.")]),
        Diagnosis(code: "O82", description: "Single delivery by caesarean section", category: pregnancy,
                  weights: (0, 0, 1.5, 0), sex: .female, rainy: 1.0, inpatient: 1.0, emergency: 0.0,
                  workup: [Workup(code: "76805", finding: "Single live fetus in breech presentation at term. Low-lying placenta."),
                           Workup(code: "85025", finding: "Haemoglobin 10.1 g/dL.")]),
        Diagnosis(code: "O14.9", description: "Pre-eclampsia, unspecified", category: pregnancy,
                  weights: (0, 0, 0.6, 0), sex: .female, rainy: 1.0, inpatient: 0.7, emergency: 0.2,
                  workup: [Workup(code: "76805", finding: "Single live fetus with estimated weight below the tenth centile. Reduced amniotic fluid."),
                           Workup(code: "81001", finding: "Proteinuria 3+."),
                           Workup(code: "82565", finding: "Serum creatinine 112 umol/L, raised for pregnancy.")]),
        Diagnosis(code: "O03.9", description: "Spontaneous abortion, complete or unspecified, without complication", category: pregnancy,
                  weights: (0, 0, 0.5, 0), sex: .female, rainy: 1.0, inpatient: 0.3, emergency: 0.4,
                  workup: [Workup(code: "76801", finding: "Empty uterine cavity with thin endometrium; no retained products of conception."),
                           Workup(code: "84702", finding: "Serum hCG 240 IU/L, falling.")]),
        Diagnosis(code: "I10", description: "Essential (primary) hypertension", category: circulatory,
                  weights: (0, 0.1, 4, 18), sex: .any, rainy: 1.0, inpatient: 0.02, emergency: 0.02,
                  workup: [Workup(code: "80048", finding: "Potassium 3.3 mmol/L, mildly low on thiazide."),
                           Workup(code: "82565", finding: "Serum creatinine 118 umol/L, mildly raised."),
                           Workup(code: "93306", finding: "Concentric left ventricular hypertrophy with preserved ejection fraction."),
                           Workup(code: "71046", finding: "Mild cardiomegaly with unfolded aorta. Lungs clear.")]),
        Diagnosis(code: "I50.9", description: "Heart failure, unspecified", category: circulatory,
                  weights: (0.1, 0.2, 0.5, 4), sex: .any, rainy: 1.0, inpatient: 0.4, emergency: 0.2,
                  workup: [Workup(code: "71046", finding: "Cardiomegaly with upper lobe venous diversion and bilateral pleural effusions."),
                           Workup(code: "93306", finding: "Dilated left ventricle with ejection fraction of 30%. Moderate mitral regurgitation."),
                           Workup(code: "80048", finding: "Sodium 129 mmol/L. Urea raised.")]),
        Diagnosis(code: "I64", description: "Stroke, not specified as haemorrhage or infarction", category: circulatory,
                  weights: (0, 0, 0.2, 1.5), sex: .any, rainy: 1.0, inpatient: 0.85, emergency: 0.6,
                  workup: [Workup(code: "70450", finding: "Hypodensity in the left middle cerebral artery territory consistent with an acute infarct. No haemorrhage."),
                           Workup(code: "70551", finding: "Restricted diffusion in the left corona radiata consistent with acute ischaemia."),
                           Workup(code: "82947", finding: "Blood glucose 7.2 mmol/L.")]),
        Diagnosis(code: "E11.9", description: "Type 2 diabetes mellitus without complications", category: endocrine,
                  weights: (0, 0.1, 2, 9), sex: .any, rainy: 1.0, inpatient: 0.03, emergency: 0.03,
                  workup: [Workup(code: "83036", finding: "HbA1c 8.9%, above target."),
                           Workup(code: "82947", finding: "Random blood glucose 14.2 mmol/L, raised."),
                           Workup(code: "81001", finding: "Glycosuria 2+. No ketones."),
                           Workup(code: "82565", finding: "Serum creatinine 96 umol/L.")]),
        Diagnosis(code: "E10.9", description: "Type 1 diabetes mellitus without complications", category: endocrine,
                  weights: (0.1, 0.5, 0.5, 0.2), sex: .any, rainy: 1.0, inpatient: 0.1, emergency: 0.1,
                  workup: [Workup(code: "83036", finding: "HbA1c 10.2%."),
                           Workup(code: "82947", finding: "Blood glucose 19.8 mmol/L.")]),
        Diagnosis(code: "E43", description: "Unspecified severe protein-energy malnutrition", category: endocrine,
                  weights: (4, 1, 0.2, 0.3), sex: .any, rainy: 1.0, inpatient: 0.3, emergency: 0.02,
                  workup: [Workup(code: "85025", finding: "Haemoglobin 8.1 g/dL, microcytic."),
                           Workup(code: "80048", finding: "Potassium 2.9 mmol/L, low.")]),
        Diagnosis(code: "D50.9", description: "Iron deficiency anaemia, unspecified", category: blood,
                  weights: (4, 3, 4, 2), sex: .any, rainy: 1.0, inpatient: 0.04, emergency: 0.02,
                  workup: [Workup(code: "85025", finding: "Haemoglobin 8.4 g/dL, microcytic hypochromic indices.")]),
        Diagnosis(code: "K29.7", description: "Gastritis, unspecified", category: digestive,
                  weights: (0.5, 2, 8, 6), sex: .any, rainy: 1.0, inpatient: 0.02, emergency: 0.04,
                  workup: [Workup(code: "76700", finding: "Mildly thickened gastric antral wall. Otherwise normal abdominal organs.")]),
        Diagnosis(code: "K35.8", description: "Acute appendicitis, other and unspecified", category: digestive,
                  weights: (0.2, 1, 1, 0.3), sex: .any, rainy: 1.0, inpatient: 0.9, emergency: 0.7,
                  workup: [Workup(code: "76700", finding: "Non-compressible tubular structure in the right iliac fossa measuring 9 mm with periappendiceal fluid."),
                           Workup(code: "74177", finding: "Dilated appendix with periappendiceal fat stranding. No abscess."),
                           Workup(code: "85025", finding: "White cell count 14.1 x10^9/L with neutrophilia."),
                           Workup(code: "88305", finding: "Acute suppurative appendicitis.")]),
        Diagnosis(code: "N39.0", description: "Urinary tract infection, site not specified", category: genitourinary,
                  weights: (2, 2, 6, 5), sex: .any, rainy: 1.0, inpatient: 0.04, emergency: 0.03,
                  workup: [Workup(code: "81001", finding: "Leukocytes 3+, nitrites positive, bacteria seen."),
                           Workup(code: "76770", finding: "Mild right pelvicalyceal fullness. No calculi.")]),
        Diagnosis(code: "N18.9", description: "Chronic kidney disease, unspecified", category: genitourinary,
                  weights: (0, 0, 0.5, 2), sex: .any, rainy: 1.0, inpatient: 0.15, emergency: 0.05,
                  workup: [Workup(code: "82565", finding: "Serum creatinine 310 umol/L."),
                           Workup(code: "80048", finding: "Potassium 5.8 mmol/L and urea markedly raised."),
                           Workup(code: "76770", finding: "Small echogenic kidneys bilaterally with loss of corticomedullary differentiation.")]),
        Diagnosis(code: "S06.0", description: "Concussion", category: injury,
                  weights: (1, 2, 2, 1), sex: .any, rainy: 1.0, inpatient: 0.2, emergency: 0.8,
                  workup: [Workup(code: "70450", finding: "Small right frontal scalp haematoma. No intracranial haemorrhage or skull fracture.")]),
        Diagnosis(code: "S52.5", description: "Fracture of lower end of radius", category: injury,
                  weights: (0.5, 2, 1.5, 1.5), sex: .any, rainy: 1.0, inpatient: 0.15, emergency: 0.8,
                  workup: [Workup(code: "73110", finding: "Transverse fracture of the distal radial metaphysis with dorsal angulation.")]),
        Diagnosis(code: "S82.2", description: "Fracture of shaft of tibia", category: injury,
                  weights: (0.3, 1, 2, 1), sex: .any, rainy: 1.0, inpatient: 0.6, emergency: 0.85,
                  workup: [Workup(code: "73590", finding: "Displaced oblique fracture of the mid tibial shaft with an associated fibular fracture."),
                           Workup(code: "73610", finding: "No ankle fracture; tibial shaft fracture partly included.")]),
        Diagnosis(code: "T14.1", description: "Open wound of unspecified body region", category: injury,
                  weights: (2, 3, 4, 2), sex: .any, rainy: 1.0, inpatient: 0.05, emergency: 0.7,
                  workup: [Workup(code: "73110", finding: "Soft tissue laceration with no radio-opaque foreign body or fracture.")]),
        Diagnosis(code: "F32.9", description: "Depressive episode, unspecified", category: mental,
                  weights: (0, 0.3, 2, 1.5), sex: .any, rainy: 1.0, inpatient: 0.03, emergency: 0.02,
                  workup: []),
        Diagnosis(code: "G40.9", description: "Epilepsy, unspecified", category: nervous,
                  weights: (1, 1.5, 1.5, 0.8), sex: .any, rainy: 1.0, inpatient: 0.08, emergency: 0.25,
                  workup: [Workup(code: "70450", finding: "No structural intracranial abnormality."),
                           Workup(code: "70551", finding: "Left mesial temporal sclerosis.")]),
        Diagnosis(code: "M54.5", description: "Low back pain", category: musculoskeletal,
                  weights: (0, 0.3, 4, 5), sex: .any, rainy: 1.0, inpatient: 0.01, emergency: 0.02,
                  workup: [Workup(code: "72100", finding: "Degenerative disc space narrowing at L4-L5 and L5-S1 with anterior osteophytes."),
                           Workup(code: "72148", finding: "L4-L5 disc protrusion contacting the traversing left L5 nerve root."),
                           Workup(code: "72131", finding: "Facet joint arthropathy at L4-L5 and L5-S1.")]),
        Diagnosis(code: "M17.9", description: "Gonarthrosis, unspecified", category: musculoskeletal,
                  weights: (0, 0, 0.3, 3), sex: .any, rainy: 1.0, inpatient: 0.01, emergency: 0.0,
                  workup: [Workup(code: "73560", finding: "Medial compartment joint space narrowing with marginal osteophytes and subchondral sclerosis."),
                           Workup(code: "73721", finding: "Full-thickness cartilage loss in the medial compartment with a degenerate medial meniscus.")]),
        Diagnosis(code: "C53.9", description: "Malignant neoplasm of cervix uteri, unspecified", category: neoplasms,
                  weights: (0, 0, 0.3, 0.6), sex: .female, rainy: 1.0, inpatient: 0.25, emergency: 0.02,
                  workup: [Workup(code: "88142", finding: "High-grade squamous intraepithelial lesion; invasive carcinoma cannot be excluded."),
                           Workup(code: "88305", finding: "Invasive squamous cell carcinoma, moderately differentiated."),
                           Workup(code: "76856", finding: "Bulky heterogeneous cervix measuring 5 cm with parametrial extension."),
                           Workup(code: "74177", finding: "Cervical mass with left hydronephrosis and pelvic lymphadenopathy.")]),
        Diagnosis(code: "C50.9", description: "Malignant neoplasm of breast, unspecified", category: neoplasms,
                  weights: (0, 0, 0.2, 0.5), sex: .female, rainy: 1.0, inpatient: 0.2, emergency: 0.01,
                  workup: [Workup(code: "88305", finding: "Invasive ductal carcinoma, grade 2."),
                           Workup(code: "71046", finding: "No pulmonary metastases. No pleural effusion.")]),
        Diagnosis(code: "C61", description: "Malignant neoplasm of prostate", category: neoplasms,
                  weights: (0, 0, 0, 0.8), sex: .male, rainy: 1.0, inpatient: 0.15, emergency: 0.02,
                  workup: [Workup(code: "88305", finding: "Prostatic adenocarcinoma, Gleason score 3 + 4 = 7."),
                           Workup(code: "74177", finding: "Enlarged heterogeneous prostate with sclerotic pelvic bone lesions.")]),
        Diagnosis(code: "H10.9", description: "Conjunctivitis, unspecified", category: eye,
                  weights: (3, 2, 1, 1), sex: .any, rainy: 1.1, inpatient: 0.0, emergency: 0.01,
                  workup: []),
        Diagnosis(code: "R50.9", description: "Fever, unspecified", category: symptoms,
                  weights: (6, 4, 2, 2), sex: .any, rainy: 1.3, inpatient: 0.05, emergency: 0.08,
                  workup: [Workup(code: "87207", finding: "No malaria parasites seen on thick and thin films."),
                           Workup(code: "85025", finding: "White cell count 11.9 x10^9/L."),
                           Workup(code: "87040", finding: "No growth after five days of incubation.")]),
        Diagnosis(code: "Z00.1", description: "Routine child health examination", category: factors,
                  weights: (10, 2, 0, 0), sex: .any, rainy: 1.0, inpatient: 0.0, emergency: 0.0,
                  workup: [Workup(code: "85025", finding: "Haemoglobin 11.4 g/dL.")]),
        Diagnosis(code: "Z30.0", description: "General counselling and advice on contraception", category: factors,
                  weights: (0, 0.1, 4, 0), sex: .female, rainy: 1.0, inpatient: 0.0, emergency: 0.0,
                  workup: [Workup(code: "84702", finding: "Serum hCG below 5 IU/L; not pregnant.")]),
    ]

    /// Long-term conditions of the chronic high-volume minority, weighted by age group
    /// (0-14, 15-49, 50+), with the chance a patient in that group has one.
    static let chronic: [(share: Double, conditions: [(code: String, weight: Double)])] = [
        (0.07, [("B20", 30), ("J45.9", 25), ("G40.9", 25), ("E43", 20)]),
        (0.16, [("B20", 35), ("I10", 20), ("E11.9", 8), ("J45.9", 8), ("G40.9", 8), ("A15.0", 8), ("N18.9", 3), ("F32.9", 5), ("E10.9", 5)]),
        (0.32, [("I10", 40), ("E11.9", 25), ("I50.9", 10), ("J44.9", 8), ("N18.9", 7), ("B20", 5), ("M17.9", 5)]),
    ]

    // MARK: Report sentences

    static let comparisons = [
        "COMPARISON: None available.",
        "COMPARISON: Previous examination reviewed.",
        "COMPARISON: No prior imaging on file.",
    ]
    static let normalImpressions = [
        "IMPRESSION: No acute abnormality.",
        "IMPRESSION: Normal study.",
        "IMPRESSION: No significant abnormality detected.",
    ]
    static let abnormalImpressionLeads = [
        "IMPRESSION: Findings consistent with ",
        "IMPRESSION: Appearances in keeping with ",
        "IMPRESSION: Features suggestive of ",
    ]
    static let routineIndication = "Routine assessment"
    static let pathologyComments = [
        "COMMENT: Results reviewed and validated by the laboratory.",
        "COMMENT: Clinical correlation advised.",
        "COMMENT: Repeat testing if clinically indicated.",
    ]
}

extension RwandaCatalog.Region {
    /// The specimen a laboratory report names.
    var specimen: String {
        switch self {
        case .urine: "Urine"
        case .stool: "Stool"
        case .sputum: "Sputum"
        case .cervix: "Cervical smear"
        case .tissue: "Tissue biopsy"
        default: "Venous blood"
        }
    }
}
