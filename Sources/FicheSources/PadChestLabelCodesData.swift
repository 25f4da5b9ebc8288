// The PadChest label → diagnosis-code mapping, embedded verbatim from
// sql/padchest_label_codes.csv (a test checks the two agree). Edit the CSV, then paste it
// here. Columns: label, code, coding_system, description, category, umls_cui. Rows with
// an empty code have no sound ICD-10 mapping: they are kept as PADCHEST-FINDING codes.
// The UMLS CUI is the one PadChest's labelCUIS aligns with the label in the real file.

extension PadChestLabelCodes {
    static let embeddedCSV = """
label,code,coding_system,description,category,umls_cui
adenopathy,R59.9,ICD-10,"Enlarged lymph nodes, unspecified",Symptoms and findings,C0478664
aortic aneurysm,I71.9,ICD-10,"Aortic aneurysm of unspecified site, without mention of rupture",Circulatory,C0003486
aortic atheromatosis,I70.0,ICD-10,Atherosclerosis of aorta,Circulatory,C1096249
artificial aortic heart valve,Z95.2,ICD-10,Presence of prosthetic heart valve,Health status,C0869748
artificial heart valve,Z95.2,ICD-10,Presence of prosthetic heart valve,Health status,C1399223
artificial mitral heart valve,Z95.2,ICD-10,Presence of prosthetic heart valve,Health status,C0869752
atelectasis,J98.1,ICD-10,Pulmonary collapse,Respiratory,C0004144
atypical pneumonia,J18.9,ICD-10,"Pneumonia, unspecified organism",Respiratory,C1412002
bone metastasis,C79.5,ICD-10,Secondary malignant neoplasm of bone and bone marrow,Neoplasms,C0153690
bronchiectasis,J47,ICD-10,Bronchiectasis,Respiratory,C0006267
cardiomegaly,I51.7,ICD-10,Cardiomegaly,Circulatory,C0018800
cervical rib,Q76.5,ICD-10,Cervical rib,Congenital,C0158779
clavicle fracture,S42.0,ICD-10,Fracture of clavicle,Injury,C0159658
COPD signs,J44.9,ICD-10,"Chronic obstructive pulmonary disease, unspecified",Respiratory,C0024117
dextrocardia,Q24.0,ICD-10,Dextrocardia,Congenital,C0011813
diaphragmatic eventration,J98.6,ICD-10,Disorders of diaphragm,Respiratory,C0011981
emphysema,J43.9,ICD-10,"Emphysema, unspecified",Respiratory,C0034067
empyema,J86.9,ICD-10,Pyothorax without fistula,Respiratory,C0014009
gastrostomy tube,Z93.1,ICD-10,Gastrostomy status,Health status,C0150595
goiter,E04.9,ICD-10,"Nontoxic goitre, unspecified",Endocrine,C0018021
gynecomastia,N62,ICD-10,Hypertrophy of breast,Genitourinary,C0018418
heart insufficiency,I50.9,ICD-10,"Heart failure, unspecified",Circulatory,C0018801
hemidiaphragm elevation,J98.6,ICD-10,Disorders of diaphragm,Respiratory,C2073707
hiatal hernia,K44.9,ICD-10,Diaphragmatic hernia without obstruction or gangrene,Digestive,C3489393
kyphosis,M40.2,ICD-10,Other and unspecified kyphosis,Musculoskeletal,C2115817
laminar atelectasis,J98.1,ICD-10,Pulmonary collapse,Respiratory,
lobar atelectasis,J98.1,ICD-10,Pulmonary collapse,Respiratory,
loculated pleural effusion,J90,ICD-10,"Pleural effusion, not elsewhere classified",Respiratory,C0747639
lung metastasis,C78.0,ICD-10,Secondary malignant neoplasm of lung,Neoplasms,C0153676
mastectomy,Z90.1,ICD-10,Acquired absence of breast(s),Health status,C0024881
multiple nodules,R91,ICD-10,Abnormal findings on diagnostic imaging of lung,Symptoms and findings,C2073563
nodule,R91,ICD-10,Abnormal findings on diagnostic imaging of lung,Symptoms and findings,C0034079
obesity,E66.9,ICD-10,"Obesity, unspecified",Endocrine,C0028754
osteoporosis,M81.9,ICD-10,"Osteoporosis, unspecified",Musculoskeletal,C0029456
pacemaker,Z95.0,ICD-10,Presence of cardiac pacemaker,Health status,C0030163
pectum carinatum,Q67.7,ICD-10,Pectus carinatum,Congenital,C2939416
pectum excavatum,Q67.6,ICD-10,Pectus excavatum,Congenital,C2051831
pericardial effusion,I31.3,ICD-10,Pericardial effusion (noninflammatory),Circulatory,C0031039
pleural effusion,J90,ICD-10,"Pleural effusion, not elsewhere classified",Respiratory,C2073625
pneumomediastinum,J98.2,ICD-10,Interstitial emphysema,Respiratory,C2073636
pneumonia,J18.9,ICD-10,"Pneumonia, unspecified organism",Respiratory,C0032285
pneumothorax,J93.9,ICD-10,"Pneumothorax, unspecified",Respiratory,C2073565
pulmonary fibrosis,J84.1,ICD-10,Other interstitial pulmonary diseases with fibrosis,Respiratory,C0034069
pulmonary mass,R91,ICD-10,Abnormal findings on diagnostic imaging of lung,Symptoms and findings,C0149726
rib fracture,S22.3,ICD-10,Fracture of rib,Injury,C0035522
round atelectasis,J98.1,ICD-10,Pulmonary collapse,Respiratory,C2062952
scoliosis,M41.9,ICD-10,"Scoliosis, unspecified",Musculoskeletal,C0036439
segmental atelectasis,J98.1,ICD-10,Pulmonary collapse,Respiratory,
total atelectasis,J98.1,ICD-10,Pulmonary collapse,Respiratory,C0264497
tracheostomy tube,Z93.0,ICD-10,Tracheostomy status,Health status,C0184159
tuberculosis,A16.9,ICD-10,"Respiratory tuberculosis unspecified, without mention of bacteriological or histological confirmation",Infectious,C0041296
tuberculosis sequelae,B90.9,ICD-10,Sequelae of respiratory and unspecified tuberculosis,Infectious,C0494132
abnormal foreign body,,,,,C0016542
abscess,,,,,C0024110
air bronchogram,,,,,C3669021
air fluid level,,,,,C0740844
air trapping,,,,,C0231819
alveolar pattern,,,,,C1332240
aortic button enlargement,,,,,C1851119
aortic elongation,,,,,
aortic endoprosthesis,,,,,
apical pleural thickening,,,,,
asbestosis signs,,,,,C0003949
ascendent aortic elongation,,,,,C3889085
atelectasis basal,,,,,C0746053
axial hyperostosis,,,,,C1400000
azygoesophageal recess shift,,,,,
azygos lobe,,,,,C0265794
blastic bone lesion,,,,,C2203581
bone cement,,,,,C0005934
breast mass,,,,,C0024103
bronchovascular markings,,,,,C2073518
bullas,,,,,C0241982
calcified adenopathy,,,,,
calcified densities,,,,,C2203586
calcified fibroadenoma,,,,,
calcified granuloma,,,,,C0333404
calcified mediastinal adenopathy,,,,,
calcified pleural plaques,,,,,
calcified pleural thickening,,,,,
callus rib fracture,,,,,C0006767
catheter,,,,,C0085590
cavitation,,,,,C0578537
central vascular redistribution,,,,,
central venous catheter,,,,,C1145640
central venous catheter via jugular vein,,,,,C0398278
central venous catheter via subclavian vein,,,,,C0398281
central venous catheter via umbilical vein,,,,,C0398284
chest drain tube,,,,,C0008034
Chilaiditi sign,,,,,C3178780
chronic changes,,,,,C0742362
consolidation,,,,,C0521530
costochondral junction hypertrophy,,,,,
costophrenic angle blunting,,,,,C0742855
cyst,,,,,C2073485
dai,,,,,C0972395
descendent aortic elongation,,,,,C4476542
double J stent,,,,,C0441293
dual chamber device,,,,,C2732817
electrical device,,,,,
end on vessel,,,,,
endoprosthesis,,,,,C0005846
endotracheal tube,,,,,C0336630
esophagic dilatation,,,,,C0192389
exclude,,,,,
external foreign body,,,,,
fibrotic band,,,,,C0865843
fissure thickening,,,,,
flattened diaphragm,,,,,C2073504
fracture,,,,,C0016658
granuloma,,,,,C0235557
ground glass pattern,,,,,C3544344
heart valve calcified,,,,,C2073448
hilar congestion,,,,,C0582411
hilar enlargement,,,,,C1698506
humeral fracture,,,,,C0020162
humeral prosthesis,,,,,C0745058
hydropneumothorax,,,,,C0020303
hyperinflated lung,,,,,C0546312
hypoexpansion,,,,,
hypoexpansion basal,,,,,
increased density,,,,,C1443940
infiltrates,,,,,C0277877
interstitial pattern,,,,,C2073538
kerley lines,,,,,C0239019
lepidic adenocarcinoma,,,,,C4049711
lipomatosis,,,,,
loculated fissural effusion,,,,,
lung vascular paucity,,,,,
lymphangitis carcinomatosa,,,,,C0238258
lytic bone lesion,,,,,C0476382
major fissure thickening,,,,,
mammary prosthesis,,,,,C0917968
mass,,,,,C2603353
mediastinal enlargement,,,,,C2021206
mediastinal mass,,,,,C0240318
mediastinal shift,,,,,C0264576
mediastinic lipomatosis,,,,,C1333298
metal,,,,,C0025552
miliary opacities,,,,,C2073583
minor fissure thickening,,,,,
nephrostomy tube,,,,,C0184149
nipple shadow,,,,,
non axial articular degenerative changes,,,,,
normal,,,,,
NSG tube,,,,,
osteopenia,,,,,C0029453
osteosynthesis material,,,,,C0016642
pleural mass,,,,,C1709576
pleural plaques,,,,,C0340030
pleural thickening,,,,,C0264545
pneumoperitoneo,,,,,C0032320
post radiotherapy changes,,,,,C1320687
prosthesis,,,,,C0175649
pseudonodule,,,,,
pulmonary artery enlargement,,,,,C2072932
pulmonary artery hypertension,,,,,C2973725
pulmonary edema,,,,,C0034063
pulmonary hypertension,,,,,C0020542
pulmonary venous hypertension,,,,,C4477098
reservoir central venous catheter,,,,,C2026143
respiratory distress,,,,,C0476273
reticular interstitial pattern,,,,,
reticulonodular interstitial pattern,,,,,C2073672
right sided aortic arch,,,,,C0035615
sclerotic bone lesion,,,,,C4315325
single chamber device,,,,,C2733312
soft tissue mass,,,,,C0457196
sternoclavicular junction hypertrophy,,,,,
sternotomy,,,,,C0185792
subacromial space narrowing,,,,,
subcutaneous emphysema,,,,,C0038536
suboptimal study,,,,,C2828075
superior mediastinal enlargement,,,,,C4273001
supra aortic elongation,,,,,
surgery,,,,,
surgery breast,,,,,C3714726
surgery heart,,,,,C0018821
surgery humeral,,,,,C0186326
surgery lung,,,,,C0038903
surgery neck,,,,,C0185773
suture material,,,,,C4305366
thoracic cage deformation,,,,,C4538889
tracheal shift,,,,,
unchanged,,,,,
vascular hilar enlargement,,,,,
vascular redistribution,,,,,C0239041
ventriculoperitoneal drain tube,,,,,C0162702
vertebral anterior compression,,,,,
vertebral compression,,,,,C0262431
vertebral degenerative changes,,,,,C4290224
vertebral fracture,,,,,C0080179
volume loss,,,,,C3203358
"""
}
