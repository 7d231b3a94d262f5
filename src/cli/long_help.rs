//! The full `--help` text of each flag or command whose description is too
//! long for one `-h` line. Its doc comment keeps a short first sentence,
//! which `-h` shows; `--help` prints the text here, rewrapped.
//!
//! The texts end without a period: clap drops the final period of a
//! one-paragraph doc comment, and `--help` printed these as such before.

// Commands (mod.rs)

/// `gramrec export`.
pub const EXPORT_ABOUT: &str = "Write a model's item file in another storage type (smaller files for the web), \
    with or without item details";

/// `gramrec import`.
pub const IMPORT_ABOUT: &str = "Read a model another tool trained (a Spark ALSModel folder, an implicit .npz) into \
    a gramrec model directory";

/// `gramrec serve`.
#[cfg(feature = "serve")]
pub const SERVE_ABOUT: &str = "Serve a model over HTTP: recommendations, fold-in, similar, popular and associated \
    items, and live events that lose nothing";

// InputArgs (input.rs)

/// `--format`.
pub const FORMAT: &str = "File format: auto (from the extension or content), csv (any delimited text), jsonl, \
    baskets (one basket of items per line) or parquet (a file, or a folder of parts as Spark and Hive write them)";

/// `--delimiter`.
pub const DELIMITER: &str = "Delimiter of text files: one character, \"tab\", \"space\" (runs of spaces) or \"::\" \
    (default: detected from the first lines: comma, tab, ';', '|', '::' or spaces)";

/// `--encoding`.
pub const ENCODING: &str = "Text encoding: auto (UTF-8, UTF-16 by its byte-order mark, and a file that is not \
    UTF-8 read as Windows-1252, saying so), utf-8 (strict), latin1, windows-1252 or utf-16";

/// `--basket-col`.
pub const BASKET_COL: &str = "With --format baskets: the column holding each basket's ID, by index or header name \
    (default: the basket's line number)";

/// `--user-col`.
pub const USER_COL: &str = "User column: 0-based index or header/field name (default: a column named like \
    user/userId/reviewerID, else the first)";

/// `--timestamp-col`.
pub const TIMESTAMP_COL: &str = "Timestamp column for `split --mode time`: index or name (default: \
    timestamp/time/unixReviewTime…; without a header, the fourth column, else the last, whose first value looks \
    like a time)";

/// `--item-alias`.
pub const ITEM_ALIAS: &str = "A file of item aliases, two columns: alias, canonical ID (as Audioscrobbler's \
    artist_alias.txt; delimiter detected). Every item ID it lists as an alias is replaced by its canonical ID as \
    the data is read (one level)";

/// `--time-format`.
pub const TIME_FORMAT: &str = "How the timestamps are written, strftime style, read as UTC: e.g. '%d/%m/%Y %H:%M' \
    or '%m/%d/%y' (default: numbers, and ISO 8601 dates with four-digit years; a date with a two-digit year needs \
    this)";

/// `--rating-col`.
pub const RATING_COL: &str = "Rating column: index, name, \"auto\" (rating/overall/count…, else the third if \
    present) or \"none\" (every interaction counts 1)";

/// `--value-map`.
pub const VALUE_MAP: &str = "Map the value column's values to weights, e.g. event types: --rating-col behaviour \
    --value-map view=1,cart=3,buy=5. A value not in the map is a bad line (an error, or skipped and counted with \
    --skip-invalid). Mapped weights train an implicit model unless --explicit";

// DetailArgs (input.rs)

/// `--items`.
pub const ITEMS: &str = "A file of item details (CSV, JSON lines or Parquet: an ID column, and name/title, \
    url/link, image/imUrl columns found by their headers), such as MovieLens' movies.csv or a product catalogue. \
    Without it, the --item-*-col flags name columns of the interaction file";

// DataArgs (input.rs)

/// `--duplicates`.
pub const DUPLICATES: &str = "Repeated (user, item) pairs: sum, last, mean or error [default: sum for implicit \
    models, last for explicit ones]";

/// `--nonpositive`.
pub const NONPOSITIVE: &str = "Implicit models: values of 0 or less (after repeated pairs are merged): interaction \
    (0 is an interaction with the base confidence, as Book-Crossing's \"read, not rated\"; negative values — \
    returns, cancellations — are dropped and counted), negative (a confident \"no\", as benfred/implicit; a 0 is \
    then no interaction) or drop (both dropped and counted). Explicit models keep every rating";

// HyperArgs (training.rs)

/// `--factors`.
pub const FACTORS: &str = "Number of latent factors [default: 64]. Without --factors (and without --auto), train \
    checks an implicit model's 64 on a validation split after λ and α (see --reg): twice as many, trained 5 \
    iterations on from the model λ and α chose, its new columns from the seed's random factors; 128 replaces 64 only \
    if it wins by more than 3 standard errors, and again trained from scratch. A model with twice the factors costs \
    two to four times the training time and twice the file size. Passing --factors skips it";

/// `--reg`.
pub const REG: &str = "Regularisation λ [default: 0.1 explicit (scaled by count), 30 implicit (unscaled); \
    measured on MovieLens 100K]. Without --reg (and without --auto), train checks an implicit model's 30 on a \
    validation split first: the defaults trained to all the iterations, then λ ×3 and ×10, and ×⅓ and ×0.1, each \
    trained 5 more iterations from the one before (a direction's first from 30), a direction stopping when a step \
    does not improve; the best \
    replaces 30 only if it wins by more than 3 standard errors, and again when trained from scratch (on sparse \
    data 30 leaves a model that ranks like popularity). The log and --json's defaultsRead and defaultsCheck say \
    what it found. Passing --reg skips λ's line; --reg, --alpha and --factors together skip the check";

/// `--alpha`.
pub const ALPHA: &str = "Confidence slope α of implicit models: an interaction of strength r weighs 1 + α·r \
    (or 1 + α·ln(1 + r/ε) with --confidence log) against the unobserved pairs' 1 [default: 1]. Without --alpha (and \
    without --auto), train checks it on the validation split after λ's line, through the λ chosen: α ×3 and ×10, \
    and ×⅓, each 5 more iterations from the one before; the best replaces 1 only if it wins by more than 3 standard \
    errors, and again when trained from scratch (heavy-tailed counts and short lists want a larger α). Passing \
    --alpha skips it";

// AlsArgs (training.rs)

/// `--explicit`.
pub const EXPLICIT: &str = "Explicit ratings: minimise squared error on observed ratings (the default when the \
    file has a rating column)";

/// `--implicit`.
pub const IMPLICIT: &str = "Implicit feedback: weighted loss over all pairs with confidence 1 + α·r (the default \
    without a rating column)";

/// `--reg-scaling`.
pub const REG_SCALING: &str = "Scale λ by each row's interaction count (count, as Spark), not at all (none, as \
    implicit), or by frequency: λ·(n + α₀·N)^ν with N the other side's rows (frequency, as Rendle et al. \
    2022) [default: count explicit, none implicit]";

/// `--unobserved`.
pub const UNOBSERVED: &str = "The weight α₀ of an implicit model's unobserved pairs (each observed pair weighs \
    its confidence); smaller values trust the interactions more";

/// `--confidence`.
pub const CONFIDENCE: &str = "Confidence curve of implicit models: linear (1 + α·r) or log (1 + α·ln(1 + \
    r/ε), for play counts) [default: read from the values: log for whole numbers whose 99th percentile is over \
    20× the median, else linear]";

/// `--method`.
pub const METHOD: &str = "How the model is fitted: als (alternating least squares on the objective the other \
    flags set) or bayes (Bayesian probabilistic matrix factorisation with biases unless --no-biases, by Gibbs \
    sampling: explicit ratings only; it learns each side's prior and the noise from the data, so --reg, \
    --reg-scaling, --iterations and the solver flags do not apply; the model \
    is the posterior mean over --samples sweeps after --burn-in; on the CPU or the GPU; see docs/ALGORITHM.md)";

// SolverArgs (training.rs)

/// `--solver`.
pub const SOLVER: &str = "Per-row solver: cg (a few warm-started conjugate-gradient steps: same quality, 3-6× \
    faster, measured) or cholesky (exact)";

// DeviceArgs (training.rs)

/// `--device`.
pub const DEVICE: &str = "Where to train: auto (a real GPU when there is one, else the CPU; a GPU failure restarts \
    the run on the CPU), gpu (any GPU adapter, software ones included; failures are errors) or cpu";

/// `--gpu-storage`.
pub const GPU_STORAGE: &str = "How the GPU stores the factors: f32, or f16 (half the GPU memory and gather \
    traffic; the arithmetic stays f32 and the model's factors are the f16 values). No effect on the CPU";

// TrainingArgs (training.rs)

/// `--input`.
pub const TRAINING_INPUT: &str = "Interactions: delimited text, JSON lines or baskets (optionally .gz), a Parquet \
    file or folder, or - for standard input. Repeat it to train on several files as one (a base file and `serve`'s \
    events.jsonl): each is read with the same input flags";

/// `--out`.
pub const TRAINING_OUT: &str = "Model directory to write (items.gramrec and users.gramrec); for tune, the best \
    setting retrained on all data";

// TrainArgs (training.rs)

/// `--validate`.
pub const VALIDATE: &str = "Held-out interactions to evaluate after every iteration: the learning curve, printed \
    and written to OUT/report.json and OUT/report.svg";

/// `--auto`.
pub const AUTO: &str = "Search the settings first: factors, λ and its scaling, α, the confidence curve and the \
    unobserved weight α₀, by successive halving on a validation split carved from the input (10%: per user for \
    implicit models, at random for explicit ones; seeded by --seed; on more than 5M interactions, on a sample of \
    the users). The other flags' settings are the first candidate; from them it walks lines along λ, α and the \
    factors as train's check of the defaults does (see --reg), then draws candidates; the best on validation is \
    retrained with them \
    on up to three fresh splits (in the budget) and replaces them only when it leads there by more than 1.645 \
    standard errors of the per-user (per-rating) difference. On ratings it also tries \
    --method bayes when the budget pays for it, and says what it would cost when not. Prints the validation \
    table, then trains the winner on all the data; the model records how it was chosen (docs/ALGORITHM.md)";

/// `--budget`.
pub const BUDGET: &str = "What --auto may spend before the final training: a multiple of one training with the \
    other flags' settings (10x), or a time (90s, 15m, 1h), converted into trainings once from the first one's time \
    [default: 10x]";

// RecommendArgs (scoring.rs)

/// `--out`.
pub const RECOMMEND_OUT: &str = "Output of --all: JSON lines ({\"user\", \"items\": [{\"item\", \"score\"}]}), or \
    CSV (user,rank,item,score) for .csv";

/// `--train`.
pub const RECOMMEND_TRAIN: &str = "Exclude each user's items in this training file (with --user and --all) instead \
    of the training items the model records";

/// `--csv-safe`.
pub const CSV_SAFE: &str = "With --all and a .csv output: IDs a spreadsheet would run as a formula (starting with \
    =, +, -, @) get a leading '";

/// `--device`.
pub const RECOMMEND_DEVICE: &str = "Where --all scores: auto (a real GPU when there is one, else the CPU), gpu \
    (any GPU adapter, software ones included; failures are errors; at most 128 items per user) or cpu";

/// `--cold-start`.
pub const COLD_START: &str = "A --user the model does not know: popular (the most popular items, marked \
    coldStart), skip (no items) or error";

/// `--json`.
pub const RECOMMEND_JSON: &str = "Print {\"items\": [{\"item\", \"score\", \"name\"?, \"url\"?, \"image\"?}], \
    \"coldStart\", \"unknown\"} (docs/JSON.md)";

// BenchArgs (synthetic.rs)

/// `--recommend-all`.
pub const RECOMMEND_ALL: &str = "Time top-k for every user instead of training: random factors of --users × \
    --items × --factors, scored with `recommend --all`'s kernel";

/// `--write-items`.
pub const WRITE_ITEMS: &str = "With --recommend-all: also write the random item factors as an item file (test data \
    for the browser benchmarks)";

// DemoArgs (synthetic.rs)

/// `--web`.
pub const DEMO_WEB: &str = "Also write a ready-to-serve web page here (index.html, the JS and wasm module, the \
    model, item names). Needs the browser module built once: bash web/build.sh";

// TuneArgs (training.rs)

/// `--mode`.
pub const TUNE_MODE: &str = "How folds are drawn: random (over interactions) or per-user (every user's \
    interactions spread over the folds)";

/// `--metric`.
pub const TUNE_METRIC: &str = "The figure that ranks settings: rmse, mae, ndcg@K, precision@K, recall@K, map@K, \
    auc, mpr [default: rmse explicit, ndcg@10 implicit]";

// ExportArgs (models.rs)

/// `--to`.
pub const EXPORT_TO: &str = "What to write: gramrec (an item factor file for the web), spark (an ALSModel folder), \
    implicit (an .npz for AlternatingLeastSquares.load, IDs beside it) or npy (a folder of NumPy arrays and ID \
    lists). Biases become two extra factor columns outside gramrec";

/// `--dtype`.
pub const EXPORT_DTYPE: &str = "With --to gramrec, the storage type: f32 (exact), f16 (half the size) or i8 (a \
    quarter, one scale per item). Other tools get f32";

/// `--out`.
pub const EXPORT_OUT: &str = "The item file, folder (spark, npy) or .npz (implicit) to write. A folder goes to a \
    path that does not exist or an empty folder; an existing folder is replaced only with --overwrite, and only \
    when it is an earlier export of the same kind holding nothing else";

/// `--overwrite`.
pub const OVERWRITE: &str = "Replace an existing --out folder that is an earlier export of the same kind (a Spark \
    ALSModel folder, gramrec's NumPy arrays). A folder holding anything else is never replaced";

// ImportArgs (models.rs)

/// `--from`.
pub const IMPORT_FROM: &str = "What wrote the model: spark (a folder from ALSModel.save) or implicit (an .npz from \
    AlternatingLeastSquares.save)";

/// `--kind`.
pub const IMPORT_KIND: &str = "Spark: explicit or implicit (Spark's implicitPrefs), which an ALSModel does not \
    record; needed unless the folder is gramrec's own export";

/// `--reg`.
pub const IMPORT_REG: &str = "The regularisation the model was trained with (Spark's regParam, default 0.1, scaled \
    per row; implicit's regularization, from the file): used to fold new users in";

/// `--user-ids`.
pub const USER_IDS: &str = "The original user IDs: a text file (line n holds the ID of index n), a Parquet table \
    with int `id` and string `label` columns, or a saved Spark StringIndexerModel folder (default: userIds/ in a \
    Spark folder, NAME.user_ids.txt beside an .npz, else the integers)";

/// `--train`.
pub const IMPORT_TRAIN: &str = "The training interactions (optional): they give the items' popularity (the \
    cold-start order; without them, the mean user's scores) and each user's seen items (left out of \
    recommendations; without them, nothing is)";

// RulesArgs (rules.rs)

/// `--input`.
pub const RULES_INPUT: &str = "Baskets: a basket file (--format baskets, one basket a line) or a transaction log \
    (--basket-col and --item-col)";

/// `--min-support`.
pub const MIN_SUPPORT: &str = "The least support of an itemset: a share of the baskets with a decimal point (0.01, \
    as Spark's minSupport) or a number of baskets (50)";

/// `--max-rules`.
pub const MAX_RULES: &str = "Stop with an error when more rules than this pass --min-confidence (counted before \
    any is kept): an itemset of n items gives up to n rules";

/// `--out`.
pub const RULES_OUT: &str = "The rules: .jsonl, .csv, .parquet, or .gramrec (the rules file the page and the \
    server read), sorted by confidence then lift";

/// `--model`.
pub const RULES_MODEL: &str = "A model whose item names (and links, images) name the items: printed by --show, \
    stored in a .gramrec output";

/// `--json`.
pub const RULES_JSON: &str = "With --show, print {\"item\", \"items\": [{\"item\", \"confidence\", \"lift\", \
    \"support\", \"name\"?}]} (docs/JSON.md)";

// ServeArgs (serve.rs)

/// `--model`.
#[cfg(feature = "serve")]
pub const SERVE_MODEL: &str = "The model directory (items.gramrec and users.gramrec), read again on SIGHUP or POST \
    /v1/admin/reload";

/// `--events`.
#[cfg(feature = "serve")]
pub const EVENTS: &str = "The event log: every accepted event is appended here and synced before it is \
    acknowledged, and replayed on start (default: MODEL/events.jsonl)";

/// `--allowed-host`.
#[cfg(feature = "serve")]
pub const ALLOWED_HOST: &str = "A host name the server answers to (repeatable), as clients reach it through DNS or \
    a proxy: api.shop.example. IP addresses and localhost are always answered; any other Host header gets 421, so \
    a page cannot rebind its own name to this server";

/// `--admin-token`.
#[cfg(feature = "serve")]
pub const ADMIN_TOKEN: &str = "Turn on POST /v1/admin/reload with this token (Authorization: Bearer TOKEN; 16 \
    characters or more). GRAMREC_ADMIN_TOKEN does the same without showing it to `ps`";

/// `--max-connections`.
#[cfg(feature = "serve")]
pub const MAX_CONNECTIONS: &str = "Most connections open at once; more wait until one closes. Lowered, with a log \
    line, to fit the open-file limit (ulimit -n)";

/// `--header-timeout`.
#[cfg(feature = "serve")]
pub const HEADER_TIMEOUT: &str = "Seconds a request's headers may take, from the connection's start or its \
    previous answer (so also how long an idle connection is kept)";

// SplitArgs (split.rs)

/// `--out`.
pub const SPLIT_OUT: &str = "Directory for train.EXT and test.EXT (EXT as the input's): the records as train reads \
    them, in the input's own layout (header in both, skipped lines in neither, baskets as baskets), every record \
    of a (user, item) pair on one side; both are read back and checked before they appear";

// GenerateArgs (synthetic.rs)

/// `--counts`.
pub const COUNTS: &str = "With --kind implicit: play counts as values (a `plays` column: log-normal, median about \
    100, heavy-tailed, larger for preferred items) instead of one line per interaction";
