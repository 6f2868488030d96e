-- Volunteers will own volunteers, skills, availability, certificates, matches, assignments,
-- hours and case consultations (issue 5). Until then it keeps only the platform tables.
SELECT 1;
