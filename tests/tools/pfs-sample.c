/*
 * pfs-sample — synthetic records in the CSV export format of the Agentschap Integratie en
 * Inburgering, for tests and benchmarks of protocolfs.
 *
 * What it guarantees:
 * - Deterministic: the output is a function of the options alone. The same options give
 *   byte-identical output on every run and machine: its own PRNG (xoshiro256** seeded by
 *   splitmix64), no rand(), no clock, no locale, its own civil-date arithmetic. Row k does
 *   not depend on --count: the first k rows are the same for every N >= k.
 * - Synthetic: every record is a random combination of common given names, family names and
 *   Mechelen street names, with random house numbers, phone digits and e-mail digits. No
 *   record is taken from, or describes, a real person (a random phone number or address may
 *   of course happen to exist: never contact one).
 * - Well-formed: a header and exactly 10 fields a row, valid UTF-8, RFC 4180 quoting of
 *   exactly the fields that hold the separator, a double quote, CR or LF. Dossier numbers are
 *   "INB" and 7 digits, unique within one output (a keyed permutation of 0..9999999).
 * - Exercising: about 1 row in 20 has the separator inside the address, about 1 in 200 a
 *   double quote in a name or address, about 1 in 10 no e-mail; names carry diacritics.
 *
 * Default format as Belgian Excel writes it: ';', UTF-8 BOM, CRLF.
 */
#define _POSIX_C_SOURCE 200809L /* open flags, fsync, write: also under -std=c11 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG	      "pfs-sample"
#define MAX_COUNT     1000000ULL
#define ID_SPACE      10000000U /* INB0000000 .. INB9999999 */
#define ID_HALF_BITS  12	/* the permutation works on 24 bits, cycle-walked into ID_SPACE */
#define ID_ROUNDS     6
#define NFIELDS	      10
#define FIELD_CAP     192
#define OUT_CAP	      (1U << 20)
#define ROW_MAX	      (NFIELDS * (2 * FIELD_CAP + 3) + 2)
#define DEFAULT_FROM  "2021-07-01"
#define DEFAULT_TO    "2022-06-30"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ errors */

static _Noreturn __attribute__((format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* ------------------------------------------------------------------ PRNG */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (size_t i = 0; i < ARRAY_SIZE(r->s); i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** by Blackman and Vigna. */
static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* Uniform in [0, n), n > 0, by multiply-shift (bias below n / 2^32, irrelevant here). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* True with probability 1/n. */
static int one_in(struct rng *r, uint32_t n)
{
	return rng_below(r, n) == 0;
}

struct wchoice {
	const char *s;
	unsigned w;
};

/* Pick from a table ended by { NULL, 0 }, in proportion to the weights. */
static const char *pick_weighted(struct rng *r, const struct wchoice *c)
{
	unsigned total = 0;
	const struct wchoice *p;

	for (p = c; p->s; p++)
		total += p->w;
	unsigned x = rng_below(r, total);
	for (p = c; p[1].s; p++) {
		if (x < p->w)
			break;
		x -= p->w;
	}
	return p->s;
}

/* ------------------------------------------------------------------ data */

struct list {
	const char *const *v;
	size_t n;
};

/* The initializer of a struct list from an array: { LIST(a) }. */
#define LIST(a) a, ARRAY_SIZE(a)

static const char *pick(struct rng *r, const struct list *l)
{
	return l->v[rng_below(r, (uint32_t)l->n)];
}

/* Syria */
static const char *const syr_m[] = {"Mohammad", "Ahmad",  "Khaled", "Omar",
				    "Yousef",	"Hussam", "Tarek",  "Ammar"};
static const char *const syr_f[] = {"Rania", "Lama", "Hala", "Nour", "Rasha", "Yara", "Ghada"};
static const char *const syr_l[] = {"Al Hamwi", "Alkhatib", "Haddad",	"Darwish", "Al Ahmad",
				    "Kanaan",	"Shaaban",  "Al Masri", "Sabbagh", "Hamdan"};
/* Afghanistan */
static const char *const afg_m[] = {"Abdul",	   "Najibullah", "Farid", "Wahid",
				    "Rahmatullah", "Jawad",	 "Sayed", "Hamid"};
static const char *const afg_f[] = {"Zahra",   "Fatima",  "Marzia", "Nilofar",
				    "Shabana", "Freshta", "Mursal"};
static const char *const afg_l[] = {"Ahmadzai",	 "Hakimi",  "Rahimi", "Sultani", "Noorzai",
				    "Mohammadi", "Hashimi", "Sadat",  "Popal",	 "Stanikzai"};
/* Eritrea */
static const char *const eri_m[] = {"Tesfay", "Yonas",	"Semere", "Dawit",
				    "Mehari", "Filmon", "Kidane", "Biniam"};
static const char *const eri_f[] = {"Senait", "Helen", "Selam", "Lidya", "Ruta", "Winta", "Mebrat"};
static const char *const eri_l[] = {"Tesfamariam", "Ghebremedhin", "Habte",   "Woldemichael",
				    "Berhane",	   "Haile",	   "Asmerom", "Tekle",
				    "Ghirmay",	   "Zerai"};
/* Somalia */
static const char *const som_m[] = {"Abdi",   "Abdirahman", "Mahad", "Liban",
				    "Hassan", "Abdullahi",  "Ayanle"};
static const char *const som_f[] = {"Hodan", "Faadumo", "Sahra", "Ifrah", "Ubah", "Hibo", "Xaawo"};
static const char *const som_l[] = {"Warsame", "Farah", "Mohamud", "Jama", "Hirsi",
				    "Osman",   "Egal",	"Nur",	   "Ali",  "Abdulle"};
/* Ukraine */
static const char *const ukr_m[] = {"Oleksandr", "Andriy", "Dmytro", "Mykola",
				    "Serhiy",	 "Bohdan", "Yuriy"};
static const char *const ukr_f[] = {"Oleksandra", "Olena",    "Iryna",	"Tetiana",
				    "Kateryna",	  "Nataliia", "Yuliia", "Oksana"};
static const char *const ukr_l[] = {"Kovalenko",  "Shevchenko", "Bondarenko", "Tkachenko",
				    "Kravchenko", "Melnyk",	"Boyko",      "Lysenko",
				    "Moroz",	  "Savchuk",	"Hnatiuk"};
/* Morocco */
static const char *const mar_m[] = {"Mohamed",	"Youssef", "Hamza", "Mehdi",
				    "Soufiane", "Bilal",   "Ayoub"};
static const char *const mar_f[] = {"Fatima Zahra", "Khadija", "Salma", "Imane",
				    "Siham",	    "Aïcha",   "Naïma"};
static const char *const mar_l[] = {"El Amrani",  "Benali",	 "El Idrissi", "Bouzid",  "Tahiri",
				    "Ait Lahcen", "El Khattabi", "Chaoui",     "Azzouzi", "Ouali"};
/* Turkey */
static const char *const tur_m[] = {"Mehmet",  "Şükrü",	 "Ömer", "Emre",
				    "Hüseyin", "Çağlar", "Yusuf"};
static const char *const tur_f[] = {"Ayşe", "Elif", "Gülşen", "Nazlı", "Zeynep", "Büşra", "Özlem"};
static const char *const tur_l[] = {"Yılmaz", "Kaya",  "Demir",	 "Şahin", "Çelik",
				    "Öztürk", "Aydın", "Arslan", "Doğan", "Koç"};
/* Iraq */
static const char *const irq_m[] = {"Ali", "Haider", "Mustafa", "Karrar", "Sajjad", "Hassan"};
static const char *const irq_f[] = {"Zainab", "Maryam", "Noor", "Ruqaya", "Hiba", "Shahad"};
static const char *const irq_l[] = {"Al Saadi",	 "Al Jubouri", "Al Obaidi", "Hussein", "Kareem",
				    "Al Tamimi", "Jaff",       "Mahmoud",   "Abbas"};
/* DR Congo */
static const char *const cod_m[] = {"Désiré",	 "Jean-Pierre", "Patrick", "Junior",
				    "Christian", "Héritier",	"Glody"};
static const char *const cod_f[] = {"Béatrice", "Grâce",   "Chantal",  "Divine",
				    "Nathalie", "Exaucée", "Merveille"};
static const char *const cod_l[] = {"Mukendi", "Ilunga",  "Tshibangu", "Kasongo", "Mbuyi",
				    "Lukusa",  "Mulumba", "Kalonji",   "Nsimba",  "Makiese"};
/* Guinea, Senegal, Cameroon */
static const char *const waf_m[] = {"Mamadou", "Ibrahima", "Ousmane",
				    "Alpha",   "Boubacar", "Cheikh"};
static const char *const waf_f[] = {"Ndèye", "Fatoumata", "Mariama", "Aminata", "Kadiatou", "Awa"};
static const char *const waf_l[] = {"Diallo", "Bah",	"Barry", "Sow",	  "Ndiaye",
				    "Diop",   "Camara", "Touré", "Sylla", "Baldé"};
/* Spanish-speaking Latin America */
static const char *const lat_m[] = {"José", "Luis", "Carlos", "Andrés", "Jesús", "Diego", "Julián"};
static const char *const lat_f[] = {"María José", "Valentina", "Daniela", "Lucía",
				    "Ana Sofía",  "Mariana",   "Yesenia"};
static const char *const lat_l[] = {"González",	 "Rodríguez", "Martínez", "Pérez",    "Gómez",
				    "Hernández", "Muñoz",     "Peña",	  "Castillo", "Ramírez"};
/* Brazil */
static const char *const bra_m[] = {"João", "Thiago", "Lucas", "Rafael", "Gustavo"};
static const char *const bra_f[] = {"Ana Clara", "Juliana", "Camila", "Letícia", "Beatriz"};
static const char *const bra_l[] = {"Silva",   "Santos",    "Oliveira", "Souza",
				    "Pereira", "Conceição", "Araújo",	"Gonçalves"};
/* Russia */
static const char *const rus_m[] = {"Aleksandr", "Dmitriy", "Sergey", "Artyom", "Maksim"};
static const char *const rus_f[] = {"Yekaterina", "Anastasiya", "Svetlana", "Yelena", "Darya"};
static const char *const rus_l[] = {"Ivanov", "Smirnov", "Kuznetsov", "Popov", "Volkov", "Sokolov"};
static const char *const rus_lf[] = {"Ivanova", "Smirnova", "Kuznetsova",
				     "Popova",	"Volkova",  "Sokolova"};
/* Iran */
static const char *const irn_m[] = {"Reza", "Mehdi", "Amir", "Hossein", "Saeed"};
static const char *const irn_f[] = {"Maryam", "Shirin", "Parisa", "Narges", "Leila"};
static const char *const irn_l[] = {"Hosseini", "Rezaei",   "Ahmadi", "Moradi",
				    "Jafari",	"Ghorbani", "Kazemi", "Sadeghi"};

struct origin {
	unsigned weight;
	struct list male, female, last, last_female; /* no last_female: same as last */
	struct wchoice lang[4];			     /* ended by { NULL, 0 } */
};

static const struct origin origins[] = {
    {
	.weight = 13,
	.male = {LIST(syr_m)},
	.female = {LIST(syr_f)},
	.last = {LIST(syr_l)},
	.lang = {{"Arabisch", 85}, {"Koerdisch", 12}, {"Engels", 3}, {NULL, 0}},
    },
    {
	.weight = 13,
	.male = {LIST(afg_m)},
	.female = {LIST(afg_f)},
	.last = {LIST(afg_l)},
	.lang = {{"Dari", 60}, {"Pasjtoe", 32}, {"Farsi", 8}, {NULL, 0}},
    },
    {
	.weight = 8,
	.male = {LIST(eri_m)},
	.female = {LIST(eri_f)},
	.last = {LIST(eri_l)},
	.lang = {{"Tigrinya", 88}, {"Engels", 8}, {"Arabisch", 4}, {NULL, 0}},
    },
    {
	.weight = 5,
	.male = {LIST(som_m)},
	.female = {LIST(som_f)},
	.last = {LIST(som_l)},
	.lang = {{"Somalisch", 85}, {"Engels", 8}, {"Arabisch", 7}, {NULL, 0}},
    },
    {
	.weight = 10,
	.male = {LIST(ukr_m)},
	.female = {LIST(ukr_f)},
	.last = {LIST(ukr_l)},
	.lang = {{"Oekraïens", 75}, {"Russisch", 20}, {"Engels", 5}, {NULL, 0}},
    },
    {
	.weight = 12,
	.male = {LIST(mar_m)},
	.female = {LIST(mar_f)},
	.last = {LIST(mar_l)},
	.lang = {{"Arabisch", 55}, {"Berbers", 28}, {"Frans", 17}, {NULL, 0}},
    },
    {
	.weight = 6,
	.male = {LIST(tur_m)},
	.female = {LIST(tur_f)},
	.last = {LIST(tur_l)},
	.lang = {{"Turks", 78}, {"Koerdisch", 20}, {"Engels", 2}, {NULL, 0}},
    },
    {
	.weight = 8,
	.male = {LIST(irq_m)},
	.female = {LIST(irq_f)},
	.last = {LIST(irq_l)},
	.lang = {{"Arabisch", 65}, {"Koerdisch", 32}, {"Engels", 3}, {NULL, 0}},
    },
    {
	.weight = 6,
	.male = {LIST(cod_m)},
	.female = {LIST(cod_f)},
	.last = {LIST(cod_l)},
	.lang = {{"Frans", 92}, {"Engels", 8}, {NULL, 0}},
    },
    {
	.weight = 5,
	.male = {LIST(waf_m)},
	.female = {LIST(waf_f)},
	.last = {LIST(waf_l)},
	.lang = {{"Frans", 88}, {"Engels", 12}, {NULL, 0}},
    },
    {
	.weight = 6,
	.male = {LIST(lat_m)},
	.female = {LIST(lat_f)},
	.last = {LIST(lat_l)},
	.lang = {{"Spaans", 95}, {"Engels", 5}, {NULL, 0}},
    },
    {
	.weight = 3,
	.male = {LIST(bra_m)},
	.female = {LIST(bra_f)},
	.last = {LIST(bra_l)},
	.lang = {{"Portugees", 95}, {"Spaans", 5}, {NULL, 0}},
    },
    {
	.weight = 3,
	.male = {LIST(rus_m)},
	.female = {LIST(rus_f)},
	.last = {LIST(rus_l)},
	.last_female = {LIST(rus_lf)},
	.lang = {{"Russisch", 95}, {"Engels", 5}, {NULL, 0}},
    },
    {
	.weight = 3,
	.male = {LIST(irn_m)},
	.female = {LIST(irn_f)},
	.last = {LIST(irn_l)},
	.lang = {{"Farsi", 90}, {"Engels", 10}, {NULL, 0}},
    },
};

struct street {
	const char *name;
	const char *postcode_place;
};

/* Mechelen proper, 2800: where most newcomers live. */
static const char *const city_streets[] = {
    "Bruul",
    "IJzerenleen",
    "Grote Markt",
    "Hoogstraat",
    "Adegemstraat",
    "Nekkerspoel",
    "Liersesteenweg",
    "Brusselsesteenweg",
    "Battelsesteenweg",
    "Tervuursesteenweg",
    "Koningin Astridlaan",
    "Vijfhoek",
    "Guido Gezellelaan",
    "Kerkhofweg",
    "Zandpoortvest",
    "Onze-Lieve-Vrouwestraat",
    "Befferstraat",
    "Keizerstraat",
    "Schoenmarkt",
    "Veemarkt",
    "Haverwerf",
    "Hanswijkstraat",
    "Leopoldstraat",
    "Frederik de Merodestraat",
    "Begijnenstraat",
    "Lange Schipstraat",
    "Nauwstraat",
    "Ganzendries",
    "Vismarkt",
    "Zoutwerf",
    "Kardinaal Mercierplein",
    "Hendrik Consciencestraat",
    "Oscar Van Kesbeeckstraat",
    "Jubellaan",
    "Geerdegemvaart",
    "Auwegemvaart",
    "Melaan",
    "Goswin de Stassartstraat",
    "Ridder Dessainlaan",
    "Egmontstraat",
    "Blokstraat",
    "Augustijnenstraat",
    "Wollemarkt",
    "Guldenstraat",
    "Otterstraat",
    "Winketkaai",
    "Hendrik Speecqvest",
    "Stuivenbergbaan",
    "Willem Geetsstraat",
    "Kanunnik De Deckerstraat",
    "Lange Ridderstraat",
    "Bleekstraat",
    "Brusselpoortstraat",
};

/* The deelgemeenten with their own postcodes. */
static const struct street village_streets[] = {
    {"Heffen-Dorp", "2801 Heffen"},	 {"Kazernestraat", "2801 Heffen"},
    {"Larestraat", "2811 Hombeek"},	 {"Tiendenschuurstraat", "2811 Hombeek"},
    {"Diepestraat", "2811 Hombeek"},	 {"Sint-Martinusstraat", "2811 Hombeek"},
    {"Leest-Dorp", "2811 Leest"},	 {"Fazantenstraat", "2811 Leest"},
    {"Ten Moortele", "2811 Leest"},	 {"Kapellebaan", "2811 Leest"},
    {"Leuvensesteenweg", "2812 Muizen"}, {"Dreefstraat", "2812 Muizen"},
};

static const char *const residences[] = {"Ter Nekker", "Sint-Jozef", "De Vijfhoek", "Den Bruul",
					 "Dijlezicht"};

static const struct wchoice mail_domains[] = {
    {"gmail.com", 50}, {"hotmail.com", 18}, {"outlook.com", 8},
    {"telenet.be", 8}, {"proximus.be", 4},  {"yahoo.fr", 5},
    {"hotmail.fr", 4}, {"yahoo.com", 3},    {NULL, 0},
};

static const struct wchoice dutch_levels[] = {
    {"geen", 25}, {"A1", 30}, {"A2", 25}, {"B1", 15}, {"B2", 5}, {NULL, 0},
};

/* Status of the civic-orientation course, for Dutch below B1 and from B1 on. */
static const struct wchoice mo_status_low[] = {
    {"niet gestart", 25}, {"bezig", 40}, {"geslaagd", 30}, {"vrijgesteld", 5}, {NULL, 0},
};
static const struct wchoice mo_status_high[] = {
    {"niet gestart", 10}, {"bezig", 20}, {"geslaagd", 45}, {"vrijgesteld", 25}, {NULL, 0},
};

static const char *const header[NFIELDS] = {
    "dossiernummer", "voornaam",    "achternaam",	 "adres",     "telefoon",
    "email",	     "contacttaal", "niveau_nederlands", "status_mo", "gedeeld_op",
};

/* ------------------------------------------------------------------ civil dates */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long)yoe + era * 400 + (*m <= 2);
}

static int parse_digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Strict YYYY-MM-DD, year 0001..9999, a day that exists. */
static int parse_date(const char *s, long *days)
{
	unsigned y, m, d, m2, d2;
	long y2;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	if (parse_digits(s, 4, &y) || parse_digits(s + 5, 2, &m) || parse_digits(s + 8, 2, &d))
		return -1;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	*days = days_from_civil((long)y, m, d);
	civil_from_days(*days, &y2, &m2, &d2);
	return (y2 == (long)y && m2 == m && d2 == d) ? 0 : -1;
}

/* ------------------------------------------------------------------ dossier numbers */

static uint32_t id_round(uint32_t half, uint32_t key)
{
	uint32_t x = (half ^ key) * 0x9e3779b1U;

	x ^= x >> 15;
	x *= 0x85ebca6bU;
	x ^= x >> 13;
	return x & ((1U << ID_HALF_BITS) - 1);
}

/*
 * A keyed Feistel network is a bijection on 24 bits; walking the cycle until the value falls
 * below ID_SPACE makes it a bijection on [0, ID_SPACE). Distinct rows get distinct numbers.
 */
static uint32_t id_permute(const uint32_t *key, uint32_t v)
{
	const uint32_t mask = (1U << ID_HALF_BITS) - 1;

	do {
		uint32_t l = v >> ID_HALF_BITS, r = v & mask;

		for (int i = 0; i < ID_ROUNDS; i++) {
			uint32_t t = r;

			r = l ^ id_round(r, key[i]);
			l = t;
		}
		v = (l << ID_HALF_BITS) | r;
	} while (v >= ID_SPACE);
	return v;
}

/* ------------------------------------------------------------------ field text */

struct field {
	char b[FIELD_CAP];
	size_t n;
};

static void f_putn(struct field *f, const char *s, size_t n)
{
	if (n > FIELD_CAP - f->n)
		n = FIELD_CAP - f->n; /* unreachable with the tables above */
	memcpy(f->b + f->n, s, n);
	f->n += n;
}

static void f_puts(struct field *f, const char *s)
{
	f_putn(f, s, strlen(s));
}

static void f_putc(struct field *f, char c)
{
	f_putn(f, &c, 1);
}

/* Decimal, zero-padded to at least width digits. */
static void f_putu(struct field *f, unsigned long v, unsigned width)
{
	unsigned digits = 1;

	for (unsigned long p = 10; p <= v && digits < 20; p *= 10)
		digits++;
	if (digits < width)
		digits = width;
	if (digits > FIELD_CAP - f->n)
		return; /* unreachable with the tables above */
	for (unsigned i = digits; i-- > 0; v /= 10)
		f->b[f->n + i] = (char)('0' + v % 10);
	f->n += digits;
}

/* ASCII letter for a Latin code point U+00C0..U+017F; '-' means drop it. */
static const char fold_latin1[] = "aaaaaaaceeeeiiiidnooooo-ouuuuyts"
				  "aaaaaaaceeeeiiiidnooooo-ouuuuyty";
static const char fold_latin_a[] = "aaaaaa"
				   "cccccccc"
				   "dddd"
				   "eeeeeeeeee"
				   "gggggggg"
				   "hhhh"
				   "iiiiiiiiii"
				   "ii"
				   "jj"
				   "kkk"
				   "llllllllll"
				   "nnnnnnnnn"
				   "oooooo"
				   "oo"
				   "rrrrrr"
				   "ssssssss"
				   "tttttt"
				   "uuuuuuuuuuuu"
				   "ww"
				   "yyy"
				   "zzzzzz"
				   "s";
_Static_assert(sizeof(fold_latin1) == 64 + 1, "U+00C0..U+00FF");
_Static_assert(sizeof(fold_latin_a) == 128 + 1, "U+0100..U+017F");

static char fold_codepoint(unsigned cp)
{
	if (cp < 0x80) {
		if (cp >= 'A' && cp <= 'Z')
			return (char)(cp - 'A' + 'a');
		if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
			return (char)cp;
		return '-';
	}
	if (cp >= 0xc0 && cp < 0x100)
		return fold_latin1[cp - 0xc0];
	if (cp >= 0x100 && cp < 0x180)
		return fold_latin_a[cp - 0x100];
	return '-';
}

/* Lowercase ASCII letters and digits of a UTF-8 name: "Şükrü" -> "sukru", "El Amrani" ->
 * "elamrani". */
static void f_put_folded(struct field *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned cp = *p++;

		if (cp >= 0x80) {
			if (cp >= 0xc0 && cp < 0xe0 && (*p & 0xc0) == 0x80)
				cp = ((cp & 0x1f) << 6) | (*p++ & 0x3f);
			else
				cp = 0xfffd; /* longer sequences: nothing in the tables */
			while ((*p & 0xc0) == 0x80)
				p++;
		}
		char c = fold_codepoint(cp);

		if (c != '-')
			f_putc(f, c);
	}
}

/* ------------------------------------------------------------------ output */

struct out {
	char *buf;
	size_t len;
	int fd;
	int err; /* errno of the first failed write, 0 if none */
	char sep;
	const char *eol;
	size_t eol_len;
	unsigned char special[256]; /* the bytes that make a field need quotes */
};

static int out_flush(struct out *o)
{
	size_t off = 0;

	while (off < o->len && !o->err) {
		ssize_t w = write(o->fd, o->buf + off, o->len - off);

		if (w > 0)
			off += (size_t)w;
		else if (w == 0)
			o->err = EIO;
		else if (errno != EINTR)
			o->err = errno;
	}
	o->len = 0;
	return o->err ? -1 : 0;
}

static void out_raw(struct out *o, const char *s, size_t n)
{
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/* One field per RFC 4180: quoted exactly when it holds the separator, a quote, CR or LF. */
static void out_field(struct out *o, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char *d = o->buf + o->len;
	size_t i = 0;

	while (i < n && !o->special[u[i]])
		i++;
	if (i == n) {
		memcpy(d, s, n);
		o->len += n;
		return;
	}
	*d++ = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			*d++ = '"';
		*d++ = s[i];
	}
	*d++ = '"';
	o->len = (size_t)(d - o->buf);
}

/* A whole line; flushes first if the buffer might not hold it. */
static int out_row(struct out *o, const char *const *v, const size_t *n)
{
	if (o->len > OUT_CAP - ROW_MAX && out_flush(o))
		return -1;
	for (int i = 0; i < NFIELDS; i++) {
		if (i)
			o->buf[o->len++] = o->sep;
		out_field(o, v[i], n[i]);
	}
	out_raw(o, o->eol, o->eol_len);
	return 0;
}

/* ------------------------------------------------------------------ records */

struct gen {
	struct rng rng;
	uint32_t id_key[ID_ROUNDS];
	long from, to; /* days since 1970-01-01, inclusive */
	char sep;
};

static void gen_init(struct gen *g, uint64_t seed, long from, long to, char sep)
{
	uint64_t k = seed ^ 0x5046532d49440000ULL; /* "PFS-ID": ids apart from the row stream */

	rng_seed(&g->rng, seed);
	for (int i = 0; i < ID_ROUNDS; i++)
		g->id_key[i] = (uint32_t)splitmix64(&k);
	g->from = from;
	g->to = to;
	g->sep = sep;
}

struct person {
	const struct origin *origin;
	const char *first, *last;
	int quote_in_name, quote_in_address, sep_in_address;
};

static const struct origin *pick_origin(struct rng *r)
{
	unsigned total = 0, x;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(origins); i++)
		total += origins[i].weight;
	x = rng_below(r, total);
	for (i = 0; i + 1 < ARRAY_SIZE(origins); i++) {
		if (x < origins[i].weight)
			break;
		x -= origins[i].weight;
	}
	return &origins[i];
}

/* Number of bytes of the first k code points of s, or 0 if s's first word is shorter than min. */
static size_t nickname_len(const char *s, size_t k, size_t min)
{
	size_t bytes = 0, cps = 0, i;

	for (i = 0; s[i] && s[i] != ' ' && s[i] != '-'; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (cps == k)
			bytes = i;
		cps++;
	}
	if (cps < min)
		return 0;
	return bytes;
}

static void make_person(struct rng *r, struct person *p)
{
	const struct origin *o = pick_origin(r);
	int female = (int)rng_below(r, 2);
	int quote = one_in(r, 200);

	p->origin = o;
	p->first = pick(r, female ? &o->female : &o->male);
	p->last = pick(r, female && o->last_female.n ? &o->last_female : &o->last);
	p->sep_in_address = one_in(r, 20);
	p->quote_in_name = quote && rng_below(r, 2) && nickname_len(p->first, 4, 6);
	p->quote_in_address = quote && !p->quote_in_name;
}

/* Mohammad "Moha": a nickname in quotes, as some exports carry it. */
static void put_first_name(struct field *f, const struct person *p)
{
	f_puts(f, p->first);
	if (!p->quote_in_name)
		return;
	f_puts(f, " \"");
	f_putn(f, p->first, nickname_len(p->first, 4, 6));
	f_putc(f, '"');
}

/* "Street Nr[ bus X], POSTCODE Place"; "Street Nr<sep> bus X" when the separator is wanted. */
static void put_address(struct rng *r, struct field *f, const struct person *p, char sep)
{
	const char *place = "2800 Mechelen";
	int bus = p->sep_in_address || rng_below(r, 100) < 35;

	if (rng_below(r, 100) < 88) {
		f_puts(f, city_streets[rng_below(r, ARRAY_SIZE(city_streets))]);
	} else {
		const struct street *s =
		    &village_streets[rng_below(r, ARRAY_SIZE(village_streets))];

		f_puts(f, s->name);
		place = s->postcode_place;
	}
	f_putc(f, ' ');
	f_putu(f, 1 + rng_below(r, 160), 0);
	if (one_in(r, 12))
		f_putc(f, (char)('A' + rng_below(r, 3)));
	if (bus) {
		if (p->sep_in_address)
			f_putc(f, sep);
		f_puts(f, " bus ");
		f_putu(f,
		       one_in(r, 4) ? 101 + rng_below(r, 4) * 100 + rng_below(r, 6)
				    : 1 + rng_below(r, 24),
		       0);
	}
	if (p->quote_in_address) {
		f_puts(f, " (residentie \"");
		f_puts(f, residences[rng_below(r, ARRAY_SIZE(residences))]);
		f_puts(f, "\")");
	}
	f_puts(f, ", ");
	f_puts(f, place);
}

/* "+32 4PP xx xx xx" with a Belgian mobile prefix: 460, 465-468 or 470-499. */
static void put_phone(struct rng *r, struct field *f)
{
	static const unsigned short low[] = {460, 465, 466, 467, 468};
	unsigned prefix =
	    one_in(r, 12) ? low[rng_below(r, ARRAY_SIZE(low))] : 470 + rng_below(r, 30);

	f_puts(f, "+32 ");
	f_putu(f, prefix, 0);
	for (int i = 0; i < 3; i++) {
		f_putc(f, ' ');
		f_putu(f, rng_below(r, 100), 2);
	}
}

/* About 1 in 10 without e-mail; otherwise a local part derived from the name. */
static void put_email(struct rng *r, struct field *f, const struct person *p)
{
	if (one_in(r, 10))
		return;
	switch (rng_below(r, 6)) {
	case 0:
		f_put_folded(f, p->first);
		f_putc(f, '.');
		f_put_folded(f, p->last);
		break;
	case 1:
		f_put_folded(f, p->first);
		f_put_folded(f, p->last);
		f_putu(f, 10 + rng_below(r, 90), 0);
		break;
	case 2:
		f_put_folded(f, p->first);
		f_putc(f, '_');
		f_put_folded(f, p->last);
		f_putu(f, 1965 + rng_below(r, 40), 0);
		break;
	case 3:
		f_put_folded(f, p->first);
		f_putu(f, 1965 + rng_below(r, 40), 0);
		break;
	case 4: {
		size_t start = f->n;

		f_put_folded(f, p->first);
		if (f->n > start + 1)
			f->n = start + 1; /* the initial */
		f_put_folded(f, p->last);
		f_putu(f, 1 + rng_below(r, 999), 0);
		break;
	}
	default:
		f_put_folded(f, p->last);
		f_putc(f, '.');
		f_put_folded(f, p->first);
		break;
	}
	f_putc(f, '@');
	f_puts(f, pick_weighted(r, mail_domains));
}

static void put_date(struct field *f, long days)
{
	long y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	f_putu(f, (unsigned long)y, 4);
	f_putc(f, '-');
	f_putu(f, m, 2);
	f_putc(f, '-');
	f_putu(f, d, 2);
}

/* The fields of row number row (0-based). */
static void gen_row(struct gen *g, uint32_t row, struct field *f)
{
	struct rng *r = &g->rng;
	struct person p;
	const char *level;

	for (int i = 0; i < NFIELDS; i++)
		f[i].n = 0;
	make_person(r, &p);
	f_puts(&f[0], "INB");
	f_putu(&f[0], id_permute(g->id_key, row), 7);
	put_first_name(&f[1], &p);
	f_puts(&f[2], p.last);
	put_address(r, &f[3], &p, g->sep);
	put_phone(r, &f[4]);
	put_email(r, &f[5], &p);
	f_puts(&f[6], pick_weighted(r, p.origin->lang));
	level = pick_weighted(r, dutch_levels);
	f_puts(&f[7], level);
	f_puts(&f[8], pick_weighted(r, level[0] == 'B' ? mo_status_high : mo_status_low));
	put_date(&f[9], g->from + (long)rng_below(r, (uint32_t)(g->to - g->from + 1)));
}

/* ------------------------------------------------------------------ options */

struct opts {
	uint64_t seed;
	unsigned long count;
	long from, to;
	int lf, bom, comma;
	const char *output;
};

static void usage(void)
{
	fputs("usage: " PROG " [--seed S] [--count N] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
	      "                  [--lf] [--no-bom] [--comma] [-o FILE]\n"
	      "\n"
	      "Writes N synthetic inburgering records (no real person) in the agency's CSV\n"
	      "export format. The same options always give byte-identical output.\n"
	      "\n"
	      "  --seed S      PRNG seed, 0..2^64-1 (default 1)\n"
	      "  --count N     number of records, 0..1000000 (default 100)\n"
	      "  --from DATE   first possible gedeeld_op date (default " DEFAULT_FROM ")\n"
	      "  --to DATE     last possible gedeeld_op date (default " DEFAULT_TO ")\n"
	      "  --lf          LF line ends instead of CRLF\n"
	      "  --no-bom      no UTF-8 byte order mark\n"
	      "  --comma       ',' as separator instead of ';'\n"
	      "  -o FILE       write to FILE (via FILE.tmp and rename) instead of stdout\n"
	      "  --help        this text\n",
	      stdout);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("write <stdout>: %s", strerror(errno));
	exit(0);
}

/* Decimal without sign, at most max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned digit = (unsigned)(*s - '0');

		if (v > (max - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

/* Matches "--name VALUE" or "--name=VALUE" (and "-o FILE"); advances *i past the value. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '=' && name[1] == '-') {
		*val = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		die("%s needs a value (try --help)", name);
	*val = argv[++*i];
	return 1;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	const char *from = DEFAULT_FROM, *to = DEFAULT_TO, *v;
	uint64_t count;

	*o = (struct opts){.seed = 1, .count = 100, .bom = 1};
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			usage();
		else if (!strcmp(arg, "--lf"))
			o->lf = 1;
		else if (!strcmp(arg, "--no-bom"))
			o->bom = 0;
		else if (!strcmp(arg, "--comma"))
			o->comma = 1;
		else if (opt_value(argc, argv, &i, "--seed", &v)) {
			if (parse_u64(v, UINT64_MAX, &o->seed))
				die("bad seed '%s': expected 0..18446744073709551615", v);
		} else if (opt_value(argc, argv, &i, "--count", &v)) {
			if (parse_u64(v, MAX_COUNT, &count))
				die("bad count '%s': expected 0..%llu", v, MAX_COUNT);
			o->count = (unsigned long)count;
		} else if (opt_value(argc, argv, &i, "--from", &v))
			from = v;
		else if (opt_value(argc, argv, &i, "--to", &v))
			to = v;
		else if (opt_value(argc, argv, &i, "-o", &v))
			o->output = v;
		else
			die("unknown argument '%s' (try --help)", arg);
	}
	if (parse_date(from, &o->from))
		die("bad --from date '%s': expected an existing YYYY-MM-DD", from);
	if (parse_date(to, &o->to))
		die("bad --to date '%s': expected an existing YYYY-MM-DD", to);
	if (o->from > o->to)
		die("--from %s is after --to %s", from, to);
	if (o->output && !*o->output)
		die("-o needs a file name");
}

/* ------------------------------------------------------------------ main */

static int write_all(struct out *o, const struct opts *opt)
{
	static const char bom[] = "\xef\xbb\xbf";
	struct field f[NFIELDS];
	const char *v[NFIELDS];
	size_t n[NFIELDS];
	struct gen g;

	gen_init(&g, opt->seed, opt->from, opt->to, o->sep);
	if (opt->bom)
		out_raw(o, bom, sizeof(bom) - 1);
	for (int i = 0; i < NFIELDS; i++) {
		v[i] = header[i];
		n[i] = strlen(header[i]);
	}
	if (out_row(o, v, n))
		return -1;
	for (int i = 0; i < NFIELDS; i++)
		v[i] = f[i].b;
	for (unsigned long row = 0; row < opt->count; row++) {
		gen_row(&g, (uint32_t)row, f);
		for (int i = 0; i < NFIELDS; i++)
			n[i] = f[i].n;
		if (out_row(o, v, n))
			return -1;
	}
	return out_flush(o);
}

/* FILE.tmp, then rename over FILE; never over a device, directory or symlink. */
static void write_file(struct out *o, const struct opts *opt)
{
	size_t len = strlen(opt->output);
	char *tmp = malloc(len + sizeof(".tmp"));
	struct stat st;

	if (!tmp)
		die("out of memory");
	if (lstat(opt->output, &st) == 0 && !S_ISREG(st.st_mode))
		die("%s exists and is not a regular file: not replacing it", opt->output);
	memcpy(tmp, opt->output, len);
	memcpy(tmp + len, ".tmp", sizeof(".tmp"));
	o->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (o->fd < 0)
		die("cannot create %s: %s", tmp, strerror(errno));
	if (write_all(o, opt) == 0 && fsync(o->fd) != 0)
		o->err = errno;
	if (close(o->fd) != 0 && !o->err)
		o->err = errno;
	if (!o->err && rename(tmp, opt->output) != 0)
		o->err = errno;
	if (o->err) {
		unlink(tmp);
		die("write %s: %s", opt->output, strerror(o->err));
	}
	free(tmp);
}

int main(int argc, char **argv)
{
	static char buf[OUT_CAP];
	struct opts opt;
	struct out o = {.buf = buf, .fd = STDOUT_FILENO};

	parse_args(argc, argv, &opt);
	o.sep = opt.comma ? ',' : ';';
	o.eol = opt.lf ? "\n" : "\r\n";
	o.eol_len = strlen(o.eol);
	o.special[(unsigned char)o.sep] = o.special['"'] = o.special['\r'] = o.special['\n'] = 1;
	if (opt.output)
		write_file(&o, &opt);
	else if (write_all(&o, &opt) != 0)
		die("write <stdout>: %s", strerror(o.err));
	return 0;
}
