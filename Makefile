# Referral intake: `make run` and `make test` work on a fresh Debian machine as root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# libtesseract-dev and friends: tesserocr is built against the system's own tesseract
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd libtesseract-dev \
	libleptonica-dev pkg-config g++ fonts-dejavu-core \
	fonts-dejavu-extra fonts-dkg-handwriting fonts-humor-sans postgresql \
	chromium libgl1 libglib2.0-0
STAMP := $(VENV)/.installed

.PHONY: run test lint bench system venv clean

run: system $(STAMP)
	@mkdir -p inbox data
	@echo "Intake service: drop referrals (PDF, TIFF, PNG, JPEG, .eml) into $(CURDIR)/inbox"
	$(BIN)/referrals --config config.toml watch

test: system $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: system $(STAMP)
	$(BIN)/referrals-bench --count $${COUNT:-120} --out bench/out

# System packages (tesseract and its language data) are installed only when missing.
system:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip; }

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# tesserocr from source, never its wheel: the wheel bundles another tesseract that
	# reads differently from the system's (see pipeline/read/tesseract_library.py)
	$(BIN)/pip install -q --no-binary tesserocr -e ".[dev]"
	@touch $(STAMP)

clean:
	rm -rf $(VENV) bench/out .pytest_cache
