"""The words on the page: what each plot means and how to read its movement (after the seed tutorials)."""

INTRO = """
# GAN Playground
Watch a **Generative Adversarial Network** learn, live, and play with what it learned. Two networks compete:
the **generator G** turns random noise *z* into samples, the **discriminator D** says how likely a sample is real.
D is trained to tell real from fake, G to fool D (Goodfellow et al. 2014). Pick a preset, press **▶ Start**,
and change the knobs while it runs.
"""

HOW_TO_READ = """
### How to read this
**D(x)** is D's average verdict on a batch of *real* samples, **D(G(z))** on a batch of *fakes*
(1 = "surely real", 0 = "surely fake"). Early on D wins easily: D(x) near 1, D(G(z)) near 0. As G improves,
D can no longer tell them apart and **both drift toward 0.5**: the equilibrium of the minimax game, where
G's distribution matches the data (the Jensen-Shannon divergence between them is then 0).
D(G(z)) is shown *before* and *after* D's update, as the PyTorch DCGAN example prints it: the gap is how much one
D step moved the verdict.

**Losses.** Loss D is D's binary cross-entropy, (BCE on real + BCE on fake) / 2: at equilibrium it sits near
log 2 ≈ 0.69. Loss G is what G minimises; for the non-saturating loss it is −log D(G(z)), again ≈ 0.69 at
equilibrium. GAN losses do not fall steadily like a classifier's: they see-saw as each player answers the other.
A Loss D that drops to 0 while Loss G climbs means D is winning.

**Gradient norms** say how hard each player is pushed. If |grad G| collapses while D(G(z)) ≈ 0, G has stopped
learning: the *vanishing gradient* of the minimax loss (try the "D wins" preset, then switch the loss to *ns*).

**D's outputs** (images): histograms of D's verdict on the latest real (green) and fake (purple) batches. Apart
at first, they slide together onto 0.5 as G gets better: the image-data version of GAN Lab's greying heatmap.

**Data space** (2-D data): the background is D's verdict everywhere (green = "real", purple = "fake", grey = "can't
tell"), green dots are real samples, purple dots G's samples from the same fixed noise, and magenta strokes show
where G's loss pushes each fake next. At equilibrium the map turns grey and the purple covers the green.

**Dotted lines** on the curves mark every setting you changed, so you can see what it did.
"""

QUALITY_HELP = """
**Quality** is measured every few seconds on a frozen copy of G (2,500 samples), off the training thread.
2-D mixtures: *modes captured* and *% high quality* (a sample within 3σ of a centre; 98.9% is the ceiling for a
perfect generator) as in the PacGAN/VEEGAN papers, whose numbers are drawn as reference lines. Digits: a small
classifier shipped with the app sorts the samples into classes (the mode-collapse meter) and gives
**FD (classifier features)**, a Fréchet distance like FID but in that classifier's features: compare it with its
*real-vs-real floor*, not with published FIDs. Translation (pix2pix): G's outputs for the 500 held-out pairs,
never trained on: the share the classifier reads as the source digit (the digit analogue of the paper's FCN-score),
per class beside it, and PSNR and SSIM against the real digit (higher is closer). CycleGAN: the share of held-out
digits that keep their class through G_AB and G_BA, the cycle L1 (how well A → B → A comes back) and the L1 to the
known true target. Style transfer: content kept (held-out digits re-rendered in each style and still read as their
digit), style match (a texture-statistics classifier names the style asked for) and change against the true
rendering, overall and per style. CoGAN: on 500 fixed z, the share of pairs G1(z), G2(z) read as the same digit
(the negative turned back, edges read by their nearest real edge image), the same with partners shuffled (what
chance gives), the pixel agreement of G2(z) with the known transform of G1(z), and the digit classes present.
"""

EXPLORE_HELP = """
### Play with a generator
A generator maps a point *z* in latent space to a sample. A **seed** names one *z*. The first four sliders move *z*
along its first four coordinates; the next four along G's **principal directions** (SeFa: the directions its first
layer responds to most strongly), in units of σ. **Interpolation** walks from seed A to seed B: *lerp* on the
straight line, *slerp* on the great circle, which keeps |z| where G was trained (the straight line's midpoint is
shorter by about √2, so lerp can fade in the middle).
"""

ABOUT = """
### About
The training engine (`ganengine`) is the same one the command line uses (`python -m ganengine train ...`).
Losses: minimax and non-saturating (Goodfellow et al. 2014), least squares (Mao et al. 2017), hinge, and
Wasserstein with gradient penalty (Gulrajani et al. 2017); R1 (Mescheder et al. 2018) and one-sided label smoothing
(Salimans et al. 2016). Models: the original MLP GAN, DCGAN (Radford et al. 2015) and a conditional GAN with a
projection discriminator (Miyato & Koyama 2018). MNIST: Yann LeCun, Corinna Cortes and Christopher J. C. Burges
(CC BY-SA 3.0). Colours after GAN Lab (Kahng et al. 2018).
"""

CONTINUED = ("**Your checkpoint:** the run goes on exactly where it was saved (weights, optimisers, EMA and random "
             "state). Its curves start at the saved step: a checkpoint keeps the state, not the history.")

TRANSLATE_HELP = """
### Draw, and let pix2pix translate it
**pix2pix** (Isola et al. 2017) learns to turn one kind of image into another from pairs: here a digit's **edges**
(a thin outline) into the **digit**. Its generator **G** sees only the edges and paints the digit; its discriminator
**D** sees (edges, image) pairs and judges them **patch by patch** (a PatchGAN: is each small patch of this image a
real digit's, for these edges?); an **L1** term (weight λ = 100) keeps G's output near the real digit, so D only has
to fix what L1 blurs. Draw a digit on the canvas: after each stroke, your **live** G translates it, and while your
run trains the output keeps changing as G learns (the edges2cats demo only ever ran a frozen model). G learned from
edge maps, where each pen stroke is an *outline*: two thin lines on either side of it. A single line works too, but
a shape you close (the triangle of a 4) comes out filled in; draw both sides of a stroke for the cleanest digits.
Train one with the preset **pix2pix: edges -> digits** in the Train tab, or upload a pix2pix checkpoint.
*Random held-out example* shows an edge map G never trained on, its output and the real digit.
"""
