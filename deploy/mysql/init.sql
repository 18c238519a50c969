-- One database per service (compose: run by MySQL's entrypoint on the first start; the users
-- and their grants come from users.sh, which reads their passwords from the environment).
-- Each service owns its tables; nothing joins or commits across these databases.
CREATE DATABASE IF NOT EXISTS minimart_user    CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS minimart_product CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS minimart_order   CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS minimart_payment CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
