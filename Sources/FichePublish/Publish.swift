// Publishing to PostgreSQL (to come).
import FicheLake
