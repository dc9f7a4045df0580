-- Natural keys: tables keyed by codes, FKs to UNIQUE codes, no PRIMARY KEY anywhere (as French
-- administrative data is published): regions ('11', '84'), departments ('01', '2A', '95'), towns
-- (INSEE code '75056' = department + a three-digit town code) and schools (UAI '0750001A'). The
-- region and department rows are public facts; towns and schools are made up (setseed).
SELECT setseed(0.42);
CREATE TABLE region (code varchar(2) NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE department (
    code varchar(3) NOT NULL UNIQUE,
    region_code varchar(2) NOT NULL REFERENCES region (code),
    name text NOT NULL
);
CREATE TABLE town (
    insee varchar(5) NOT NULL UNIQUE,
    department_code varchar(3) NOT NULL REFERENCES department (code),
    code varchar(3) NOT NULL,
    name text NOT NULL,
    population integer NOT NULL CHECK (population >= 0),
    UNIQUE (department_code, code)
);
CREATE TABLE school (
    uai char(8) NOT NULL UNIQUE,
    insee varchar(5) NOT NULL REFERENCES town (insee),
    kind text NOT NULL CHECK (kind IN ('école', 'collège', 'lycée')),
    pupils integer NOT NULL CHECK (pupils > 0)
);
INSERT INTO region (code, name) VALUES
    ('11', 'Île-de-France'),
    ('24', 'Centre-Val de Loire'),
    ('27', 'Bourgogne-Franche-Comté'),
    ('28', 'Normandie'),
    ('32', 'Hauts-de-France'),
    ('44', 'Grand Est'),
    ('52', 'Pays de la Loire'),
    ('53', 'Bretagne'),
    ('75', 'Nouvelle-Aquitaine'),
    ('76', 'Occitanie'),
    ('84', 'Auvergne-Rhône-Alpes'),
    ('93', 'Provence-Alpes-Côte d''Azur'),
    ('94', 'Corse');
INSERT INTO department (code, region_code, name) VALUES
    ('01', '84', 'Ain'),
    ('02', '32', 'Aisne'),
    ('03', '84', 'Allier'),
    ('04', '93', 'Alpes-de-Haute-Provence'),
    ('05', '93', 'Hautes-Alpes'),
    ('06', '93', 'Alpes-Maritimes'),
    ('07', '84', 'Ardèche'),
    ('08', '44', 'Ardennes'),
    ('09', '76', 'Ariège'),
    ('10', '44', 'Aube'),
    ('11', '76', 'Aude'),
    ('12', '76', 'Aveyron'),
    ('13', '93', 'Bouches-du-Rhône'),
    ('14', '28', 'Calvados'),
    ('15', '84', 'Cantal'),
    ('16', '75', 'Charente'),
    ('17', '75', 'Charente-Maritime'),
    ('18', '24', 'Cher'),
    ('19', '75', 'Corrèze'),
    ('2A', '94', 'Corse-du-Sud'),
    ('2B', '94', 'Haute-Corse'),
    ('21', '27', 'Côte-d''Or'),
    ('22', '53', 'Côtes-d''Armor'),
    ('23', '75', 'Creuse'),
    ('24', '75', 'Dordogne'),
    ('25', '27', 'Doubs'),
    ('26', '84', 'Drôme'),
    ('27', '28', 'Eure'),
    ('28', '24', 'Eure-et-Loir'),
    ('29', '53', 'Finistère'),
    ('30', '76', 'Gard'),
    ('31', '76', 'Haute-Garonne'),
    ('32', '76', 'Gers'),
    ('33', '75', 'Gironde'),
    ('34', '76', 'Hérault'),
    ('35', '53', 'Ille-et-Vilaine'),
    ('36', '24', 'Indre'),
    ('37', '24', 'Indre-et-Loire'),
    ('38', '84', 'Isère'),
    ('39', '27', 'Jura'),
    ('40', '75', 'Landes'),
    ('41', '24', 'Loir-et-Cher'),
    ('42', '84', 'Loire'),
    ('43', '84', 'Haute-Loire'),
    ('44', '52', 'Loire-Atlantique'),
    ('45', '24', 'Loiret'),
    ('46', '76', 'Lot'),
    ('47', '75', 'Lot-et-Garonne'),
    ('48', '76', 'Lozère'),
    ('49', '52', 'Maine-et-Loire'),
    ('50', '28', 'Manche'),
    ('51', '44', 'Marne'),
    ('52', '44', 'Haute-Marne'),
    ('53', '52', 'Mayenne'),
    ('54', '44', 'Meurthe-et-Moselle'),
    ('55', '44', 'Meuse'),
    ('56', '53', 'Morbihan'),
    ('57', '44', 'Moselle'),
    ('58', '27', 'Nièvre'),
    ('59', '32', 'Nord'),
    ('60', '32', 'Oise'),
    ('61', '28', 'Orne'),
    ('62', '32', 'Pas-de-Calais'),
    ('63', '84', 'Puy-de-Dôme'),
    ('64', '75', 'Pyrénées-Atlantiques'),
    ('65', '76', 'Hautes-Pyrénées'),
    ('66', '76', 'Pyrénées-Orientales'),
    ('67', '44', 'Bas-Rhin'),
    ('68', '44', 'Haut-Rhin'),
    ('69', '84', 'Rhône'),
    ('70', '27', 'Haute-Saône'),
    ('71', '27', 'Saône-et-Loire'),
    ('72', '52', 'Sarthe'),
    ('73', '84', 'Savoie'),
    ('74', '84', 'Haute-Savoie'),
    ('75', '11', 'Paris'),
    ('76', '28', 'Seine-Maritime'),
    ('77', '11', 'Seine-et-Marne'),
    ('78', '11', 'Yvelines'),
    ('79', '75', 'Deux-Sèvres'),
    ('80', '32', 'Somme'),
    ('81', '76', 'Tarn'),
    ('82', '76', 'Tarn-et-Garonne'),
    ('83', '93', 'Var'),
    ('84', '93', 'Vaucluse'),
    ('85', '52', 'Vendée'),
    ('86', '75', 'Vienne'),
    ('87', '75', 'Haute-Vienne'),
    ('88', '44', 'Vosges'),
    ('89', '27', 'Yonne'),
    ('90', '27', 'Territoire de Belfort'),
    ('91', '11', 'Essonne'),
    ('92', '11', 'Hauts-de-Seine'),
    ('93', '11', 'Seine-Saint-Denis'),
    ('94', '11', 'Val-de-Marne'),
    ('95', '11', 'Val-d''Oise');
-- 4 to 24 towns per department, town codes rising by 1 to 30 (zero-padded), names from parts
INSERT INTO town (insee, department_code, code, name, population)
SELECT d.code || lpad(t.num::text, 3, '0'), d.code, lpad(t.num::text, 3, '0'),
       (ARRAY['Saint-', 'Sainte-', 'Le ', 'La ', 'Les ', '', '', '', 'Villers-', 'Mont'])[1 + floor(random() * 10)::int]
       || (ARRAY['Martin', 'Pierre', 'Bois', 'Val', 'Fontaine', 'Marie', 'Chapelle', 'Roche', 'Plessis', 'Vigne',
                 'Étienne', 'Moulin', 'Ferté', 'Croix', 'Laurent', 'Aubin'])[1 + floor(random() * 16)::int]
       || (ARRAY['', '', '', '-sur-Loire', '-en-Bresse', '-les-Bains', '-sur-Mer', '-le-Château', '-de-Bretagne',
                 '-du-Lac'])[1 + floor(random() * 10)::int],
       floor(exp(5 + random() * 6))::int
FROM department d
CROSS JOIN LATERAL (
    SELECT sum(1 + floor(random() * 30 + 0 * ascii(d.code))::int) OVER (ORDER BY g) AS num
    FROM generate_series(1, 4 + floor(random() * 21 + 0 * ascii(d.code))::int) AS g
) AS t;
-- schools in about half the towns, more in larger ones
INSERT INTO school (uai, insee, kind, pupils)
SELECT lpad(left(t.insee, 2), 3, '0') || lpad((row_number() OVER ())::text, 4, '0')
       || chr(65 + floor(random() * 26)::int),
       t.insee, (ARRAY['école', 'école', 'école', 'collège', 'lycée'])[1 + floor(random() * 5)::int],
       20 + floor(random() * 40 * ln(t.population))::int
FROM town t, generate_series(1, 1 + (t.population / 5000)) AS g
WHERE random() < 0.5;
